import { equal } from "node:assert/strict";
import { QueryFilter } from "./queries.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array) => String.fromCharCode(...b);

function run(...chunks: string[]): string {
  const f = new QueryFilter();
  return chunks.map((c) => dec(f.filter(enc(c)))).join("") + dec(f.flush());
}

Deno.test("terminal queries are removed, colours and text stay", () => {
  equal(run("login: \x1b[6n\x1b[c\x1b[>c\x1b[18t\x1b]11;?\x07\x1b[?25$p\x1bZ\x05ok"), "login: ok");
  equal(run("\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H"), "\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H");
  equal(run("\x1bP$qm\x1b\\after"), "after");
});

Deno.test("a query split between chunks is still removed; an unfinished one is passed on at the end", () => {
  equal(run("a\x1b[", "6nb"), "ab");
  equal(run("a\x1b", "[>", "0qb"), "ab");
  equal(run("tail\x1b["), "tail\x1b[");
});

Deno.test("bytes outside ASCII pass unchanged", () => {
  const f = new QueryFilter();
  const utf8 = new TextEncoder().encode("fóò ✓");
  equal(new TextDecoder().decode(f.filter(utf8)), "fóò ✓");
});
