/**
 * `vmrm`: delete VMs.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { VmHome } from "../lib/home/home.ts";
import { resolve } from "../lib/path.ts";
import { planRemoval, removeVms } from "../lib/tree/remove.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** `vmrm` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmrm",
  summary: "delete VMs",
  synopsis: ["vmhome ..."],
  description: `Delete each VM: its settings, its children list and runtime files, and the
disk images in its home; the home itself once nothing else is left in it.
Its parent's children list forgets it. A running VM, or one with children
(unless -r), is refused. Asks first unless -y.`,
  options: [
    { short: "k", help: "remove only vmtools' own files, keeping images and unknown files" },
    { short: "r", help: "also delete every descendant, wherever it lives" },
    { short: "y", help: "do not ask for confirmation" },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: `Until it is complete a deletion only moves files to a backup directory:
interrupted or failed, it is undone.`,
  examples: [
    ["vmrm ~/vms/old", "delete a VM (asks first)"],
    ["vmrm -y -r ~/vms/base/web", "a fork and its own children, without asking"],
    ["vmrm -k ~/vms/keep-disk", "forget a VM but keep its disk image"],
  ],
  async exec(args, io) {
    if (!args.operands.length) {
      throw new UsageError("which VM? (vmrm never deletes the current directory by default)");
    }
    const { tool, tools } = session(args, io, BUILTIN_MODULES);
    const opts = { recursive: Boolean(args.count.r), keepImages: Boolean(args.count.k) };
    let failed = 0;
    for (const path of args.operands) {
      try {
        const plan = planRemoval(VmHome.open(resolve(path, io.cwd), tool, path), opts);
        const more = plan.homes.length - 1;
        const what = `VM ${plan.home.path}${more ? ` and its ${more} descendant${more > 1 ? "s" : ""}` : ""}`;
        // -y answers yes here: the question's own proposal is no.
        const question = `Delete ${what}${opts.keepImages ? " (keeping images)" : ""}`;
        if (!tools.prompter.assumeYes && !await tools.prompter.confirm(question, false)) {
          tools.log.error(`${path}: not deleted`);
          failed++;
          continue;
        }
        await removeVms(plan, opts, tools);
      } catch (e) {
        if (!(e instanceof VmError) || args.operands.length === 1) throw e;
        tools.log.error(`${path}: ${e.message}`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};

export default command;
