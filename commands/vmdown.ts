/**
 * `vmdown`: shut down running VMs, politely first and by force if needed.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { session } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError } from "../lib/errors.ts";
import { DONE, type Method, METHOD_ORDER, shutdown, type ShutdownTarget } from "../lib/running/shutdown.ts";
import { selectHomes, selectProcesses, type TargetContext } from "../lib/running/shutdown_targets.ts";
import { sweepRuntimeDirs } from "../lib/running/sweep.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

const HOW: Record<Method, string> = {
  s: "powered off by the guest",
  t: "terminated (SIGTERM)",
  k: "killed (SIGKILL)",
};

/** `vmdown` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmdown",
  summary: "shut down running VMs",
  synopsis: ["[-a | -p pid ... | vmhome ...]"],
  description: `Shut down the VMs of the homes given (no home: the current directory), every
VM of yours (-a), or the QEMU processes given by id (-p).`,
  options: [
    { short: "s", help: "press the ACPI power button (QMP system_powerdown)" },
    { short: "t", help: "send SIGTERM: QEMU quits at once (a power cut for the guest)" },
    {
      short: "k",
      help: "send SIGKILL",
      more: `no method given: all three, in this order, each one only to
the VMs still running, waiting vm_qemu_shutdown_timeout
seconds (default 20) after each`,
    },
    { short: "w", help: "wait until the VMs have stopped (implied by several methods)" },
    { short: "a", help: "every running VM of the current user" },
    { short: "p", operands: "pid", help: "the operands are QEMU process ids" },
    {
      short: "o",
      value: "k=v",
      repeats: true,
      complete: "setting",
      help: "set a setting for this run, e.g. vm_qemu_shutdown_timeout=5",
    },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: `A home may also be the runtime directory vmup printed for a bare boot.
Once a VM has stopped its pid file and sockets are removed (a bare boot's
runtime directory as a whole).`,
  examples: [
    ["vmdown", "stop the VM here, escalating if it must"],
    ["vmdown -sw ~/vms/deb", "ask the guest to power off, and wait"],
    ["vmdown -a -tk", "stop all your VMs, without the polite step"],
    ["vmdown -k -p 48213", "kill a QEMU found with vmps"],
  ],
  async exec(args, io) {
    const { tool, tools, overrides } = session(args, io, BUILTIN_MODULES);
    const { log } = tools;
    const picked = METHOD_ORDER.filter((m) => args.count[m]);
    const methods = picked.length ? picked : [...METHOD_ORDER];
    if (args.count.a && args.count.p) {
      throw new UsageError("-a and -p cannot be combined");
    }
    if (args.count.a && args.operands.length) {
      throw new UsageError(
        `-a takes no operands ('${args.operands[0]}' given)`,
      );
    }
    if (args.count.p && !args.operands.length) {
      throw new UsageError("-p needs at least one process id");
    }
    const ctx: TargetContext = { roots: tools.roots, overrides, tool, warn: (m) => log.warn(m) };
    let targets: ShutdownTarget[];
    const errors: string[] = [];
    if (args.count.p) {
      const pids = new Set(args.operands.map((p) => {
        if (!/^\d+$/.test(p)) throw new UsageError(`'${p}': not a process id`);
        return Number(p);
      }));
      targets = await selectProcesses((vm) => vm.pid !== undefined && pids.has(vm.pid), ctx);
      for (const pid of pids) {
        if (!targets.some((t) => t.pid === pid)) {
          errors.push(`pid ${pid}: not a running QEMU process`);
        }
      }
    } else if (args.count.a) {
      const uid = Deno.uid();
      targets = await selectProcesses((vm) => vm.uid === uid, ctx);
      if (!targets.length) log.info("no running VMs");
    } else {
      const paths = args.operands.length ? args.operands : ["."];
      const sel = await selectHomes(paths, ctx);
      targets = sel.targets;
      errors.push(...sel.errors);
    }
    for (const e of errors) log.error(e);

    const outcomes = await shutdown(targets, {
      methods,
      wait: Boolean(args.count.w),
      prefix: tool.get("cfg_qemu_cmdprefix"),
      log,
    });
    // Bare boots whose guest powered itself off left their runtime directories: tidy those too.
    await sweepRuntimeDirs(tool, log);
    let failed = errors.length;
    for (const o of outcomes) {
      const what = `${o.target.label}${o.target.pid !== undefined ? ` (pid ${o.target.pid})` : ""}`;
      if (o.error !== undefined) {
        failed++;
        log.error(`${what}: ${o.error}`);
      } else if (o.stopped) {
        log.info(`${what}: ${o.by ? HOW[o.by] : "stopped"}`);
      } else {
        log.info(`${what}: ${DONE[o.by!]}`);
      }
    }
    return failed ? 1 : 0;
  },
};

export default command;
