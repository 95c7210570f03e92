import { deepEqual, throws } from "node:assert/strict";
import { getopt } from "./getopt.ts";
import { UsageError } from "../errors.ts";
import type { OptionDecl } from "./spec.ts";

const spec: OptionDecl[] = [
  { short: "h", long: "help", help: "" },
  { short: "n", help: "" },
  { short: "v", repeats: true, help: "" },
  { short: "y", help: "" },
  { short: "o", value: "k=v", repeats: true, help: "" },
  { short: "c", value: "s", help: "" },
  { long: "json", help: "" },
  { long: "format", value: "f", help: "" },
];

Deno.test("getopt bundles and counts flags", () => {
  const p = getopt(["-yn", "-vvv", "home"], spec);
  deepEqual(p.count, { y: 1, n: 1, v: 3 });
  deepEqual(p.operands, ["home"]);
});

Deno.test("getopt collects repeated and glued values, even ones starting with -", () => {
  const p = getopt(["-o", "a=1", "-ob=2", "-c", "-n", "-yovm_ram_size=4G"], spec);
  deepEqual(p.values, { o: ["a=1", "b=2", "vm_ram_size=4G"], c: ["-n"] });
  deepEqual(p.count, { y: 1 });
});

Deno.test("getopt stops at -- and lets options follow operands", () => {
  const p = getopt(["x", "-n", "--", "-n", "--"], spec);
  deepEqual(p.operands, ["x", "-n", "--"]);
  deepEqual(p.count, { n: 1 });
});

Deno.test("getopt treats a lone - as an operand and knows long options", () => {
  const p = getopt(["-", "--json", "--help", "--format=a", "--format", "b"], spec);
  deepEqual(p.operands, ["-"]);
  deepEqual(p.count, { json: 1, h: 1 });
  deepEqual(p.values, { format: ["a", "b"] });
});

Deno.test("getopt refuses unknown options and missing values", () => {
  throws(() => getopt(["-x"], spec), { name: "UsageError", message: "unknown option '-x'" });
  throws(() => getopt(["--nope"], spec), { message: "unknown option '--nope'" });
  throws(() => getopt(["-o"], spec), /needs a value/);
  throws(() => getopt(["--format"], spec), /needs a value/);
  throws(() => getopt(["--json=yes"], spec), /'--json' takes no value/);
  throws(() => getopt(["-vx"], spec), UsageError);
});

Deno.test("an unknown long option names the nearest one", () => {
  throws(() => getopt(["--jsn"], spec), { message: "unknown option '--jsn' (did you mean --json?)" });
  throws(() => getopt(["--hlep"], spec), { message: "unknown option '--hlep' (did you mean --help?)" });
  throws(() => getopt(["--fromat=x"], spec), {
    message: "unknown option '--fromat' (did you mean --format?)",
  });
  throws(() => getopt(["--verbose"], spec), { message: "unknown option '--verbose'" });
});

Deno.test("getopt reads a long flag with an optional value, glued or matching the next argument", () => {
  const opts: OptionDecl[] = [
    { long: "libvirt", optionalValue: "URI", separateValue: /^qemu[+:]/, help: "" },
    { short: "n", help: "" },
  ];
  deepEqual(getopt(["--libvirt", "home"], opts), { count: { libvirt: 1 }, values: {}, operands: ["home"] });
  deepEqual(getopt(["--libvirt=test:///default", "home"], opts), {
    count: { libvirt: 1 },
    values: { libvirt: ["test:///default"] },
    operands: ["home"],
  });
  deepEqual(getopt(["--libvirt", "qemu+ssh://h/system", "-n", "home"], opts), {
    count: { libvirt: 1, n: 1 },
    values: { libvirt: ["qemu+ssh://h/system"] },
    operands: ["home"],
  });
  deepEqual(getopt(["--libvirt", "-n"], opts).count, { libvirt: 1, n: 1 });
});
