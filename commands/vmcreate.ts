/**
 * `vmcreate`: create VM homes, then start them unless `-n`.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { PromptAborted, type Prompter } from "../lib/ui/prompt.ts";
import { createVm } from "../lib/vm/create.ts";
import { up } from "../lib/vm/up.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";
import { UP_OPTIONS, upOptions } from "./vmup.ts";

const command: Command = {
  name: "vmcreate",
  summary: "create VM homes (and start them)",
  options: UP_OPTIONS,
  help: `Usage: vmcreate [-bhinqrsvyz] [-C s] [-c s] [-D s] [-d s] [-o k=v] [-t tpl] vmhome ...

Create a VM in each vmhome (made when missing; it must not hold a VM yet),
asking for its main settings, then start it unless -n is given. Answers can
be piped on stdin, one a line; -y takes every proposal.

  -c s, -C s   use storage s as a hard disk (-C: and boot from it)
  -d s, -D s   use storage s as a CD-ROM (-D: and boot from it)
  -o k=v       store a setting in the new VM (repeatable)
  -t tpl       apply a template (stored in the new VM)
  -n           create only, do not start
  -i           start in the foreground, monitor on this terminal
  -b -r -s -z  as for vmup
  -y           take the proposed answer to every question
  -q, -v       less / more messages (repeatable)
  -h           this help

Without a disk, a blank one (hdd.qcow2, 40G proposed, 0 for none) is made.

Examples:
  vmcreate -y -c ./disk.qcow2 ./vm1      keep a VM around an existing disk
  vmcreate -D debian.iso -t modern ./deb  install from an ISO on a new disk
See vmcreate(1).
`,
  async exec(args, io) {
    if (!args.operands.length) throw new UsageError("missing vmhome");
    const { tools, overrides } = session(args, io, BUILTIN_MODULES);
    const opts = upOptions(args, overrides);
    let failed = 0;
    for (const home of args.operands) {
      try {
        const created = await createVm(home, opts, tools);
        if (!opts.noBoot) {
          const bootOpts = {
            ...opts,
            disks: [],
            cdroms: [],
            bootFrom: undefined,
            templates: [],
          };
          let r = await up(created, bootOpts, tools);
          // An installer usually reboots into the installed system: offer that.
          while (opts.interactive && await restartWanted(tools.prompter)) {
            r = await up(created, bootOpts, tools);
          }
          if (r.exitCode) failed++;
        }
      } catch (e) {
        if (!(e instanceof VmError) || args.operands.length === 1) throw e;
        tools.log.error(`${home}: ${e.message}`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};

/** Whether to start the VM again; Ctrl-D, the end of input, means no. */
async function restartWanted(prompter: Prompter): Promise<boolean> {
  try {
    return await prompter.confirm("The VM stopped. Start it again", false);
  } catch (e) {
    if (e instanceof PromptAborted) return false;
    throw e;
  }
}

export default command;
