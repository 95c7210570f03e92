/**
 * `vmfix`: find and repair what crashes and plain file commands leave.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError } from "../lib/errors.ts";
import { resolve } from "../lib/path.ts";
import { type Check, repair } from "../lib/tree/repair.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** `vmfix` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmfix",
  summary: "find and repair broken VMs",
  synopsis: ["[-n] [-r] -a | -A | -[bdlps] [dir ...]"],
  description: `Check the directories given (default: the current one; with -r everything
below them too) for what the flags name, and repair it unless -n. At least
one check is needed.`,
  options: [
    { short: "b", help: "changes a killed command left half done (undo, or finish)" },
    { short: "d", help: "work files (pid file, sockets of VMs not running; left-over ISOs)" },
    { short: "l", help: "lock files nobody holds" },
    { short: "p", help: "parent lines and children lists that disagree" },
    { short: "s", help: "storage and backing-file paths left behind by a move" },
    { short: "a", help: "the same as -blps" },
    { short: "A", help: "the same as -bdlps" },
    { short: "n", help: "check only; exit 1 when something is wrong" },
    { short: "r", help: "also every directory below" },
    ...COMMON_OPTIONS,
  ],
  operands: "dir",
  notes: `After a plain mv or cp -r of VM homes, 'vmfix -a -r DIR' (DIR holding both
the old and new places' neighbours) finds where they went and re-points every
parent line, children list, storage path and backing file.`,
  examples: [
    ["vmfix -an -r ~/vms", "what is wrong anywhere below ~/vms (changes nothing)"],
    ["vmfix -a -r ~/vms", "repair it"],
    ["vmfix -b .", "finish or undo a command killed in this directory"],
  ],
  async exec(args, io) {
    const picked = [..."bdlps"].filter((c) => args.count[c]) as Check[];
    if (args.count.a) picked.push("b", "l", "p", "s");
    if (args.count.A) picked.push("b", "d", "l", "p", "s");
    if (!picked.length) throw new UsageError("say what to check: -a, -A, or some of -b -d -l -p -s");
    const { tool, tools } = session(args, io, BUILTIN_MODULES);
    const dirs = (args.operands.length ? args.operands : ["."]).map((d) => resolve(d, io.cwd));
    for (const d of dirs) {
      try {
        if (!Deno.statSync(d).isDirectory) throw new UsageError(`${d}: not a directory`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`${d}: no such directory`);
      }
    }
    const dryRun = Boolean(args.count.n);
    const findings = await repair(
      dirs,
      { checks: new Set(picked), recursive: Boolean(args.count.r), dryRun },
      tool,
      tools,
    );
    for (const f of findings) io.output.out(`${f.where}: ${f.what}${f.fixed ? " (repaired)" : ""}\n`);
    if (!findings.length) tools.log.info("nothing to repair");
    if (dryRun) return findings.length ? 1 : 0;
    return findings.some((f) => !f.fixed) ? 1 : 0;
  },
};

export default command;
