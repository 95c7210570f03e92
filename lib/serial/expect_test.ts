import { equal, throws } from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { compilePattern, LineMatcher, parseTimeout } from "./expect.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("a line split between chunks matches once whole; carriage returns do not count", () => {
  const m = new LineMatcher(/^VMTOOLS-READY$/);
  equal(m.feed(bytes("booting\r\nVMTOOLS-RE")), undefined);
  equal(m.feed(bytes("ADY\r\nmore\r\n")), "VMTOOLS-READY");
  equal(m.matched, "VMTOOLS-READY");
});

Deno.test("a prompt matches before its line ends; earlier lines come first", () => {
  const m = new LineMatcher(/# $/);
  equal(m.feed("login: root\r\n"), undefined);
  equal(m.feed("~ # "), "~ # ");
  const first = new LineMatcher(/ans-\d+/);
  equal(first.feed("echo ans-$((6*7))\r\nans-42\r\nans-43\r\n"), "ans-42");
});

Deno.test("UTF-8 split between chunks is decoded whole", () => {
  const m = new LineMatcher(/^fóò$/);
  const all = bytes("fóò\n");
  equal(m.feed(all.subarray(0, 2)), undefined);
  equal(m.feed(all.subarray(2)), "fóò");
});

Deno.test("a bad pattern or timeout is a usage error naming it", () => {
  throws(
    () => compilePattern("(", "--wait"),
    (e) => e instanceof UsageError && /--wait '\('/.test(e.message),
  );
  equal(parseTimeout(undefined), undefined);
  equal(parseTimeout("1.5"), 1500);
  for (const bad of ["0", "-1", "soon", ""]) {
    throws(() => parseTimeout(bad), UsageError, bad);
  }
});

Deno.test("lines are matched and returned as a terminal shows them: escape sequences and control characters gone", () => {
  const m = new LineMatcher(/^BdsDxe: loading/);
  equal(m.feed("\x1b[0m\x1b[1;37;40m\x1b[2J\x1b[01;01H\x1b]0;title\x07"), undefined);
  equal(m.feed("BdsDxe: loading Boot0001\x1b[K\x07\r\n"), "BdsDxe: loading Boot0001");
});
