/**
 * Every command's declaration is whole: options named once, each with its
 * help and, if valued, a placeholder; -q, -v and -h everywhere; vmcreate
 * takes vmup's options.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { formatHelp, optionLabel } from "../lib/cli/help.ts";
import type { CommandSpec } from "../lib/cli/spec.ts";
import { COMMAND_NAMES } from "../tests/helpers/vmtools.ts";

const BUILT = COMMAND_NAMES;

async function allSpecs(): Promise<CommandSpec[]> {
  const built = await Promise.all(BUILT.map(async (n) => (await import(`./${n}.ts`)).default as CommandSpec));
  return built;
}

Deno.test("the thirteen commands are declared, each option once, with help", async () => {
  const specs = await allSpecs();
  deepEqual(specs.map((s) => s.name).sort(), [...COMMAND_NAMES].sort());
  for (const s of specs) {
    const shorts = s.options.flatMap((o) => o.short ? [o.short] : []);
    const longs = s.options.flatMap((o) => o.long ? [o.long] : []);
    equal(new Set(shorts).size, shorts.length, `${s.name}: a letter declared twice`);
    equal(new Set(longs).size, longs.length, `${s.name}: a long name declared twice`);
    for (const letter of "qvh") ok(shorts.includes(letter), `${s.name} takes -${letter}`);
    ok(longs.includes("help"), `${s.name} takes --help`);
    for (const o of s.options) {
      ok(o.short || o.long, `${s.name}: an option without a name`);
      ok(o.short === undefined || /^[A-Za-z]$/.test(o.short), `${s.name}: -${o.short}`);
      ok(o.help && !o.help.includes("\n"), `${s.name} ${optionLabel(o)}: one line of help`);
      ok(o.value === undefined || o.value.length > 0, `${s.name} ${optionLabel(o)}: placeholder`);
      ok(
        o.complete === undefined || o.value !== undefined,
        `${s.name} ${optionLabel(o)}: completes a value it has not`,
      );
    }
    ok(s.synopsis.length > 0 && s.examples.length > 0, `${s.name}: usage and examples`);
  }
});

Deno.test("each built command's -h lists every option it declares", async () => {
  for (const s of (await allSpecs()).filter((s) => BUILT.includes(s.name))) {
    const help = formatHelp(s);
    match(help, new RegExp(`^Usage: ${s.name} `), s.name);
    match(help, /\nExamples:\n/, s.name);
    for (const o of s.options) {
      // A label too long for the column stands on a line of its own.
      ok(
        help.includes(`\n  ${optionLabel(o)} `) || help.includes(`\n  ${optionLabel(o)}\n`),
        `${s.name} -h lists ${optionLabel(o)}`,
      );
    }
    ok(help.split("\n").every((l) => l.length <= 80), `${s.name} -h fits 80 columns`);
  }
});

Deno.test("vmcreate takes vmup's option letters, and of its long ones only --json", async () => {
  const [up, create] = await Promise.all(
    ["vmup", "vmcreate"].map(async (n) => (await import(`./${n}.ts`)).default),
  );
  const letters = (s: CommandSpec) => s.options.flatMap((o) => o.short ? [o.short] : []).sort();
  deepEqual(letters(create), letters(up));
  const longOnly = (s: CommandSpec) => s.options.flatMap((o) => o.short ? [] : [o.long]).sort();
  deepEqual(longOnly(up), ["json", "libvirt", "timeout", "wait"]);
  deepEqual(longOnly(create), ["json"]);
});
