/**
 * `vmmon`: the QEMU monitor of a running VM, its serial console (`-s`), or
 * its serial log followed as it grows (`-f`).
 * @module
 */
import { type Command, verbosityOf } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError } from "../lib/errors.ts";
import { HmpRunner } from "../lib/monitor/hmp.ts";
import { readLines } from "../lib/monitor/lines.ts";
import { PROMPT, runLines } from "../lib/monitor/repl.ts";
import { configRoots } from "../lib/roots.ts";
import { attachPiped, attachTerminal, claimSerial, connectSerial } from "../lib/serial/console.ts";
import { followLog } from "../lib/serial/follow.ts";
import { resolveSettings } from "../lib/settings/resolve.ts";
import { Logger } from "../lib/ui/log.ts";
import { locateVm, targetFile } from "../lib/running/locate.ts";
import { compilePattern, LineMatcher, parseTimeout } from "../lib/serial/expect.ts";
import { expectInLog } from "../lib/serial/wait.ts";
import { isOwnSocket, readRecord, recordedOutputs } from "../lib/running/record.ts";
import { isAlive } from "../lib/running/alive.ts";

/** After piped input ends, how long the guest may stay silent before `vmmon -s` leaves. */
const QUIET_MS = 1000;
/** How long `vmmon -s` waits for the first answer to piped input (a guest on a busy host). */
const FIRST_ANSWER_MS = 10_000;

/** `vmmon` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmmon",
  summary: "QEMU monitor, serial console or serial log of a running VM",
  synopsis: ["[-s | -f] [path]"],
  description: `Talk to a running VM. path is its home, a file in it, or the socket itself;
for a bare boot, the directory vmup printed. No path: the current directory.

Without -s or -f: the QEMU human monitor. On a terminal it has line editing,
history and Tab completion (Ctrl-D leaves; 'quit' stops QEMU at once). From a
pipe, each line is run as a command and its output printed.

A VM started with vmup --libvirt is reached through virsh: the monitor with
qemu-monitor-command --hmp, the console (-s, on a terminal) with virsh console.`,
  options: [
    { short: "n", help: "no line editing on a terminal: read plain lines" },
    {
      short: "s",
      help: "attach to the guest's serial console (serial.sock)",
      more: `on a terminal Ctrl-] detaches; from a pipe, send the input,
print what comes back until the guest is quiet for a second
(its first answer may take up to ten seconds)`,
    },
    {
      short: "f",
      help: "print the serial log (serial.log) as the guest adds to it",
      more: "until the VM stops or Ctrl-C",
    },
    {
      long: "expect",
      value: "re",
      help: "with -s: send the piped input, then wait for a line matching re",
      more: `instead of a quiet second; print what came, then leave (exit 0).
Without a console socket (vm_serial_mode=log), watch the log`,
    },
    {
      long: "timeout",
      value: "n",
      help: "with --expect: give up after n seconds (exit 1, VM left running)",
    },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  examples: [
    ["vmmon ~/vms/deb", "open the monitor"],
    ["echo 'info status' | vmmon ~/vms/deb", "run one command from a script"],
    ["echo 'sendkey ctrl-alt-delete' | vmmon .", "reboot the guest"],
    ["vmmon -s ~/vms/deb", "log in on the serial console"],
    ["printf 'uname -a\\n' | vmmon -s ~/vms/deb", "run a command in the guest shell"],
    ["printf 'root\\n' | vmmon -s --expect '# ' .", "log in, up to the shell prompt"],
    ["vmmon -f ~/vms/deb", "watch the guest boot"],
  ],
  async exec(args, io) {
    if (args.count.s && args.count.f) {
      throw new UsageError("-s and -f exclude each other");
    }
    if (args.operands.length > 1) {
      throw new UsageError("one path at most");
    }
    const expect = args.values.expect ? compilePattern(args.values.expect.at(-1)!, "--expect") : undefined;
    const expectMs = parseTimeout(args.values.timeout?.at(-1));
    if (expectMs !== undefined && !expect) throw new UsageError("--timeout goes with --expect");
    if (expect && !args.count.s) throw new UsageError("--expect goes with -s");
    const tool = resolveSettings({ roots: configRoots(io.env) }).settings;
    const log = new Logger(
      io.prog,
      verbosityOf(tool.int("cfg_ui_verbosity"), args),
      io.output,
    );
    const target = locateVm(args.operands[0] ?? ".", tool, io.cwd);
    const notice = (text: string) => {
      if (log.verbosity >= 1) io.output.err(text);
    };
    const record = readRecord(target.files);
    // A VM vmup started under libvirt is reached through virsh.
    const lv = record?.libvirt ? await import("../lib/libvirt/monitor.ts") : undefined;
    const underLibvirt = await lv?.libvirtTarget(target);

    if (args.count.f) {
      // vmup recorded where the output goes: a user's own -serial file: (vm_qemu_params) takes the place of serial.log.
      const recorded = record && recordedOutputs(record, target.files).log;
      return await followLog(recorded || targetFile(target, "serialLog"), {
        label: target.label,
        monitor: target.files.monitor,
        alive: underLibvirt && (() => isAlive(target.files)),
        stdout: io.stdout,
        notice,
      });
    }

    if (args.count.s) {
      const socket = targetFile(target, "serial");
      if (expect && target.givenKind !== "socket" && !isOwnSocket(socket)) {
        // No console to type into (vm_serial_mode=log, or libvirt's): what the guest prints is in its log.
        return await expectInLog(target, new LineMatcher(expect), {
          timeoutMs: expectMs,
          stdout: io.stdout,
          input: io.output.inIsTerminal ? undefined : io.stdin.readable,
        });
      }
      if (underLibvirt) {
        return await lv!.attachConsole(underLibvirt.ref, target.label, io.output.inIsTerminal);
      }
      const lock = await claimSerial(socket, target.files.monitor, target.label);
      try {
        const conn = await connectSerial(socket, target.label);
        const opts = { label: target.label, stdout: io.stdout, notice };
        if (io.output.inIsTerminal && !expect) return await attachTerminal(conn, opts);
        return await attachPiped(conn, {
          ...opts,
          // With --expect at a terminal, nothing is sent: only the guest's line is awaited.
          input: io.output.inIsTerminal ? ReadableStream.from<Uint8Array>([]) : io.stdin.readable,
          quietMs: QUIET_MS,
          firstAnswerMs: FIRST_ANSWER_MS,
          expect: expect && new LineMatcher(expect),
          expectMs,
        });
      } finally {
        lock?.release();
      }
    }

    const runner = underLibvirt
      ? new lv!.LibvirtHmpRunner(underLibvirt.ref, target.label)
      : new HmpRunner(targetFile(target, "monitor"), target.label);
    const version = await runner.check();
    if (io.output.inIsTerminal && !args.count.n) {
      const { interactive, defaultHistoryFile } = await import(
        "../lib/monitor/interactive.ts"
      );
      notice(
        `QEMU ${version} monitor of ${target.label}; 'help' lists the commands, Ctrl-D leaves\n`,
      );
      return await interactive(runner, log, {
        historyFile: defaultHistoryFile(),
      });
    }
    return await runLines(
      runner,
      readLines(io.stdin.readable),
      io.output,
      log,
      { prompt: io.output.inIsTerminal ? PROMPT : undefined },
    );
  },
};

export default command;
