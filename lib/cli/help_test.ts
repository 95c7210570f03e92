import { equal } from "node:assert/strict";
import { formatHelp, usage } from "./help.ts";
import type { CommandSpec } from "./spec.ts";
import { COMMON_OPTIONS } from "./spec.ts";

const spec: CommandSpec = {
  name: "vmtest",
  summary: "a test",
  synopsis: ["[-a | -p pid ...]"],
  description: "Test things.",
  options: [
    { short: "z", help: "last letter" },
    { short: "a", help: "all of them" },
    { short: "p", operands: "pid", help: "the operands are process ids" },
    { short: "o", value: "k=v", repeats: true, complete: "setting", help: "a setting" },
    { short: "D", value: "s", help: "a CD-ROM", more: "and boot from it\n  (indented)" },
    { short: "d", value: "home", operands: "vmhome", help: "homes" },
    { long: "json", help: "JSON" },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: "A note.",
  examples: [["vmtest", "test here"], ["vmtest -a -z", "test everything"]],
};

Deno.test("-h is written from the declaration: usage, text, one row per option, examples", () => {
  equal(
    formatHelp(spec),
    `Usage: vmtest [-hqvz] [-D s] [-d home] [-o k=v] [--json] [-a | -p pid ...]

Test things.

  -z           last letter
  -a           all of them
  -p           the operands are process ids
  -o k=v       a setting
  -D s         a CD-ROM
               and boot from it
                 (indented)
  -d home ...  homes
  --json       JSON
  -q           fewer messages (repeatable)
  -v           more messages (repeatable)
  -h, --help   this help

A note.

Examples:
  vmtest        test here
  vmtest -a -z  test everything
See vmtest(1).
`,
  );
});

Deno.test("usage lines wrap under the command, one line per form", () => {
  const long: CommandSpec = {
    ...spec,
    name: "vmlong",
    synopsis: ["source ... directory-with-a-long-name", "-t directory source ..."],
    options: [
      ...spec.options,
      { short: "t", value: "directory", help: "into" },
      { short: "c", value: "s", help: "" },
      { short: "C", value: "s", help: "" },
    ],
  };
  equal(
    usage(long).join("\n"),
    `Usage: vmlong [-ahpqvz] [-C s] [-c s] [-D s] [-d home] [-o k=v] [--json]
              source ... directory-with-a-long-name
       vmlong [-ahpqvz] [-C s] [-c s] [-D s] [-d home] [-o k=v] [--json]
              -t directory source ...`,
  );
});

Deno.test("a long flag with an optional value shows it in brackets", () => {
  const withUri: CommandSpec = {
    ...spec,
    synopsis: [""],
    options: [{ long: "libvirt", optionalValue: "URI", help: "under libvirt" }],
  };
  equal(usage(withUri)[0], "Usage: vmtest [--libvirt[=URI]]");
  equal(formatHelp(withUri).split("\n")[4], "  --libvirt[=URI]");
});
