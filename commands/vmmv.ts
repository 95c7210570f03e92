/**
 * `vmmv`: move or rename VMs, keeping their links true.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { VmHome } from "../lib/home/home.ts";
import { resolve } from "../lib/path.ts";
import { moveVm } from "../lib/tree/move.ts";
import { destination } from "../lib/tree/scan.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** `vmmv` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmmv",
  summary: "move or rename VMs, keeping their links",
  synopsis: ["source dest", "source ... directory", "-t dir source ..."],
  description: `Move each VM home (with everything in it, its child VMs below it
included) to dest, or into an existing directory. Every link stays true: the
parent's children list, the parent lines of children living elsewhere, and
backing files on disks outside are re-pointed; links inside the moved
directory are relative and move with it. No VM moved may be running.`,
  options: [
    { short: "t", value: "dir", complete: "dir", help: "move the sources into this directory" },
    { short: "y", help: "take the proposed answer to every question" },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: `Across file systems the home is copied, then the original deleted. Failed or
interrupted, a move is undone; a killed one is undone by 'vmfix -b' in the
directory the VM was in.`,
  examples: [
    ["vmmv ~/vms/deb ~/vms/debian", "rename a VM"],
    ["vmmv ~/vms/base/web ~/vms/", "move a fork out of its parent's directory"],
    ["vmmv -t ~/archive a b c", "move several VMs into a directory"],
  ],
  async exec(args, io) {
    const { tool, tools } = session(args, io, BUILTIN_MODULES);
    const operands = args.operands.map((o) => resolve(o, io.cwd));
    let pairs: [string, string][];
    if (args.values.t) {
      const dir = resolve(args.values.t.at(-1)!, io.cwd);
      if (!operands.length) throw new UsageError("which VM to move?");
      if (!isDirectory(dir)) throw new UsageError(`${dir}: not a directory`);
      pairs = operands.map((s) => [s, destination(s, dir)]);
    } else {
      if (operands.length < 2) throw new UsageError("need a source and a destination");
      const dest = operands[operands.length - 1];
      const sources = operands.slice(0, -1);
      if (sources.length > 1 && !isDirectory(dest)) {
        throw new UsageError(`${dest}: with several sources the destination must be an existing directory`);
      }
      pairs = sources.map((s) => [s, destination(s, dest)]);
    }
    let failed = 0;
    for (const [source, dest] of pairs) {
      try {
        await moveVm(VmHome.open(source, tool), dest, tool, tools);
      } catch (e) {
        if (!(e instanceof VmError) || pairs.length === 1) throw e;
        tools.log.error(`${source}: ${e.message}`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

export default command;
