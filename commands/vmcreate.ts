/**
 * `vmcreate`: create VM homes, then start them unless `-n`.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import type { OptionDecl } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { PromptAborted, type Prompter } from "../lib/ui/prompt.ts";
import { createVm } from "../lib/boot/create.ts";
import { up } from "../lib/boot/up.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";
import { provisionOptions, UP_OPTIONS, upOptions } from "./vmup.ts";
import { type CreateReport, createReport, formatJson, upReport } from "../lib/boot/report.ts";

/** How vmcreate words the options it shares with vmup, where it differs. */
const OWN_HELP: Record<string, string> = {
  c: "use storage s as a hard disk",
  C: "use storage s as a hard disk and boot from it",
  d: "use storage s as a CD-ROM",
  o: "store a setting in the new VM (repeatable)",
  t: "apply a template (stored in the new VM)",
  n: "create only, do not start",
  D: "use storage s as a CD-ROM and boot from it once (an installer)",
  i: "start in the foreground, monitor on this terminal",
  S: "share directory dir with the guest at this start (not stored)",
};

/** vmup's options in vmcreate's words and order: what is stored first. */
const OPTIONS: readonly OptionDecl[] = [..."cCdDSotnibrszyqvh"].map((letter) => {
  const o = UP_OPTIONS.find((o) => o.short === letter)!;
  return letter in OWN_HELP ? { ...o, help: OWN_HELP[letter] } : o;
}).toSpliced(-3, 0, {
  long: "json",
  help: "print on stdout a JSON array of the new VMs (see vmtools(7))",
});

/** `vmcreate` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmcreate",
  summary: "create VM homes (and start them)",
  synopsis: ["[vmhome ...]"],
  description: `Create a VM in each vmhome (made when missing; it must not hold a VM yet;
none given: the current directory), asking for its main settings, then start
it unless -n is given. Answers can be piped on stdin, one a line; -y takes
every proposal. An installer given with -D boots once; the disk after that.`,
  options: OPTIONS,
  operands: "dir",
  notes: "Without a disk, a blank one (hdd.qcow2, 40G proposed, 0 for none) is made.",
  examples: [
    ["vmcreate -y -c ./disk.qcow2 ./vm1", "keep a VM around an existing disk"],
    ["vmcreate -D debian.iso -t modern ./deb", "install from an ISO on a new disk"],
  ],
  async exec(args, io) {
    const { json } = provisionOptions(args);
    if (json && args.count.i) throw new UsageError("--json cannot go with -i");
    const { tool, tools, overrides } = session(args, io, BUILTIN_MODULES);
    const opts = upOptions(args, overrides);
    let failed = 0;
    const reports: CreateReport[] = [];
    const homes = args.operands.length ? args.operands : ["."];
    for (const home of homes) {
      try {
        const created = await createVm(home, opts, tools);
        // What was written, before the first start changes it (vm_boot_once).
        const report = json
          ? createReport(created, `${created}/${tool.get("cfg_file_vmsettings")}`)
          : undefined;
        if (report) reports.push(report);
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
          if (report) report.started = upReport(r);
        }
      } catch (e) {
        if (!(e instanceof VmError) || homes.length === 1) throw e;
        tools.log.error(`${home}: ${e.message}`);
        failed++;
      }
    }
    if (json) io.output.out(formatJson(reports));
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
