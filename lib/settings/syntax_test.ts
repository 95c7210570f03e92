import { deepEqual, equal, throws } from "node:assert/strict";
import { HOSTILE_NAMES } from "../../tests/helpers/vmtools.ts";
import { formatList, parseList, quote, SyntaxError, unquote } from "./syntax.ts";

const hostile = [...HOSTILE_NAMES, "a\tb", "", "''", "'\\''"];

Deno.test("quote/unquote round-trips hostile values", () => {
  for (const v of hostile) {
    equal(unquote(quote(v)), v, `value ${JSON.stringify(v)}`);
  }
});

Deno.test("quote leaves plain values bare and quotes the rest", () => {
  equal(quote("2G"), "2G");
  equal(quote("/a/b-c_d.qcow2"), "/a/b-c_d.qcow2");
  equal(quote("John's VM"), `'John'\\''s VM'`);
  equal(quote(""), "''");
});

Deno.test("unquote reads the documented example and lenient bare characters", () => {
  equal(unquote(`'John'\\''s VM'`), "John's VM");
  equal(unquote("rw:/x/y"), "rw:/x/y");
});

Deno.test("unquote reports the column of what is wrong", () => {
  const cases: [string, RegExp, number][] = [
    ["'open", /unterminated quote/, 1],
    ["a$b", /'\$' must be inside single quotes/, 2],
    ["a\\b", /backslash/, 2],
    ["a b", /unexpected ' '/, 2],
  ];
  for (const [text, msg, col] of cases) {
    throws(
      () => unquote(text),
      (e) => e instanceof SyntaxError && msg.test(e.message) && e.column === col,
    );
  }
});

Deno.test("quote refuses newline and NUL", () => {
  throws(() => quote("a\nb"), /newline/);
  throws(() => quote("a\0b"), /NUL/);
});

Deno.test("lists split on blanks and keep quoted elements whole", () => {
  deepEqual(parseList("-usb -device 'usb tablet'  x"), [
    "-usb",
    "-device",
    "usb tablet",
    "x",
  ]);
  const items = ["a b", "it's", "-n", ""];
  deepEqual(parseList(formatList(items)), items);
  deepEqual(parseList(""), []);
});

Deno.test("quote refuses a carriage return, which the reader takes for a line end", () => {
  throws(() => quote("a\rb"), /carriage return/);
});

Deno.test("NUL and newline are refused even inside quotes, with their column", () => {
  const cases: [string, RegExp, number][] = [
    ["'a\0b'", /^NUL is not allowed, not even quoted$/, 3],
    ["x'a\nb'", /^newline is not allowed, not even quoted$/, 4],
    ["ab\0", /^NUL is not allowed, not even quoted$/, 3],
  ];
  for (const [text, msg, col] of cases) {
    throws(
      () => unquote(text),
      (e) => e instanceof SyntaxError && msg.test(e.message) && e.column === col,
      JSON.stringify(text),
    );
  }
});

Deno.test("a list of 500 000 elements splits without overflowing the stack", () => {
  const items = parseList(`${"-x 'a b' ".repeat(250_000)}`);
  equal(items.length, 500_000);
  equal(items[499_999], "a b");
});
