import { deepEqual, throws } from "node:assert/strict";
import { getopt } from "./getopt.ts";
import { UsageError } from "../errors.ts";

const spec = { flags: "hnvy", valued: "oc", long: ["json"] };

Deno.test("getopt bundles and counts flags", () => {
  const p = getopt(["-yn", "-vvv", "home"], spec);
  deepEqual(p.count, { y: 1, n: 1, v: 3 });
  deepEqual(p.operands, ["home"]);
});

Deno.test("getopt collects repeated and glued values, even ones starting with -", () => {
  const p = getopt(["-o", "a=1", "-ob=2", "-c", "-n"], spec);
  deepEqual(p.values, { o: ["a=1", "b=2"], c: ["-n"] });
  deepEqual(p.count, {});
});

Deno.test("getopt stops at -- and lets options follow operands", () => {
  const p = getopt(["x", "-n", "--", "-n", "--"], spec);
  deepEqual(p.operands, ["x", "-n", "--"]);
  deepEqual(p.count, { n: 1 });
});

Deno.test("getopt treats a lone - as an operand and knows long flags", () => {
  const p = getopt(["-", "--json", "--help"], spec);
  deepEqual(p.operands, ["-"]);
  deepEqual(p.count, { json: 1, h: 1 });
});

Deno.test("getopt refuses unknown options and missing values", () => {
  throws(() => getopt(["-x"], spec), UsageError);
  throws(() => getopt(["--nope"], spec), UsageError);
  throws(() => getopt(["-o"], spec), /needs a value/);
});
