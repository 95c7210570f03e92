/**
 * `vmmerge`: merge a VM into its parent, or into its children.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { VmHome } from "../lib/home/home.ts";
import { resolve } from "../lib/path.ts";
import { mergeVm } from "../lib/tree/merge.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** `vmmerge` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmmerge",
  summary: "merge a VM into its parent or its children",
  synopsis: ["[-c | -p] [vmhome ...]"],
  description: `Merge each VM (default: the current directory) with its family.
-p (the default): into its parent, which must have no other child: the
parent's disks take in the VM's overlays, its settings become the VM's, the
VM's children become the parent's, and the VM goes. -c: into its children:
each child takes in what it read from the VM and takes its place under the
VM's parent (with no parent, each child becomes a root), and the VM goes.
Directories move so that the layout still mirrors the tree. No VM involved
may be running.`,
  options: [
    { short: "p", help: "merge into the parent (the default)" },
    { short: "c", help: "merge into the children" },
    { short: "s", help: "safe mode: work on copies, swapped in at the end" },
    { short: "y", help: "do not ask for confirmation" },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: `Merging into the parent changes the parent's disks in place: once that has
begun, an interrupted merge is finished, not undone (by the next command on
the parent, or 'vmfix -b'). With -s the merge works on copies (more time and
disk) and can be undone to the end. Merging into several children always
works on copies. Progress is shown on a terminal.`,
  examples: [
    ["vmmerge ~/vms/base/web", "fold web into base (base must have no other child)"],
    ["vmmerge -c ~/vms/base", "fold base into its children, which take its place"],
    ["vmmerge -s ~/vms/base/web", "the same as the first, undoable to the end"],
  ],
  async exec(args, io) {
    if (args.count.c && args.count.p) throw new UsageError("-c and -p exclude each other");
    const { tool, tools } = session(args, io, BUILTIN_MODULES);
    const opts = { intoChildren: Boolean(args.count.c), safe: Boolean(args.count.s) };
    const paths = args.operands.length ? args.operands : ["."];
    let failed = 0;
    for (const path of paths) {
      try {
        const home = VmHome.open(resolve(path, io.cwd), tool, path);
        if (opts.intoChildren && home.parent() === undefined && home.childLinks().length > 1) {
          const question =
            `${home.path} has no parent: each of its ${home.childLinks().length} children becomes a root VM. Go on`;
          if (!tools.prompter.assumeYes && !await tools.prompter.confirm(question, false)) {
            tools.log.error(`${path}: not merged`);
            failed++;
            continue;
          }
        }
        await mergeVm(home, opts, tools);
      } catch (e) {
        if (!(e instanceof VmError) || paths.length === 1) throw e;
        tools.log.error(`${path}: ${e.message}`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};

export default command;
