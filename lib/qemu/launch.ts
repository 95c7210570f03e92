/**
 * Starting QEMU. In the background vmtools starts it itself, detached in a
 * session of its own, instead of letting it `-daemonize`: QEMU's seccomp
 * sandbox kills a QEMU that forks, and a pid known at spawn needs no pid file
 * to be trusted. QEMU counts as up once its monitor answers with the token
 * vmtools gave it; if it exits first, what it printed is the error.
 * In the foreground it keeps the terminal, monitor included.
 * @module
 */
import { VmError } from "../errors.ts";
import { QmpClient } from "../qmp/client.ts";
import { spawn } from "../spawn.ts";
import { after, sleep } from "../timer.ts";
import type { Logger } from "../ui/log.ts";
import { hasToken, tokenArgs } from "../running/record.ts";
import type { BuiltCommand } from "./build.ts";
import { removeQuietly } from "../remove.ts";

/** Quotes an argument for display as a shell word. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command as one shell-readable line. */
export function formatCommand(cmd: BuiltCommand): string {
  return [cmd.binary, ...cmd.args].map(shellQuote).join(" ");
}

/** A QEMU started in the background and answering on its monitor. */
export interface Launched {
  /** QEMU's process id; the process is detached and outlives vmtools. */
  pid: number;
  /** When it was spawned, in ms since the epoch. */
  started: number;
  /** An open monitor connection; close it when done. */
  qmp: QmpClient;
}

/** How long QEMU may take to open its monitor. */
const READY_TIMEOUT_MS = 60_000;

/**
 * Starts QEMU detached with the identity `token`, and returns once its
 * monitor at `monitor` answers with that token.
 */
export async function launchDetached(
  cmd: BuiltCommand,
  monitor: string,
  token: string,
  log: Logger,
): Promise<Launched> {
  const args = [...cmd.args, ...tokenArgs(token)];
  log.at(5, formatCommand({ ...cmd, args }));
  const child = spawn(cmd.binary, args, { stdin: "null", stdout: "null", stderr: "piped", detached: true });
  const started = Date.now();
  const stderr = collect(child.stderr);
  let exit: Deno.CommandStatus | undefined;
  const exited = child.status.then((s) => exit = s);
  try {
    const qmp = await waitForMonitor(monitor, () => exit !== undefined, exited);
    if (!qmp) throw startError(exit!, await stderr.text());
    if (!(await hasToken(qmp, token).catch(() => false))) {
      qmp.close();
      throw new VmError(`${monitor}: another QEMU answers on this VM's monitor socket`);
    }
    const warnings = stderr.now().replace(/^VNC server running on .*$/m, "").trim();
    if (warnings) log.at(2, warnings);
    stderr.stop();
    child.unref();
    return { pid: child.pid, started, qmp };
  } catch (e) {
    if (exit === undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* it just exited */ }
    }
    throw e;
  } finally {
    for (const f of cmd.transient) removeQuietly(f);
  }
}

/** Connects to the monitor as soon as QEMU serves it; `undefined` when QEMU exits first. */
async function waitForMonitor(
  monitor: string,
  gone: () => boolean,
  exited: Promise<unknown>,
): Promise<QmpClient | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let interval = 10;
  while (!gone()) {
    try {
      // QEMU answers only once its main loop runs, that is once set up.
      const qmp = await Promise.race([
        QmpClient.connect(monitor, { timeoutMs: 5000 }),
        exited.then(() => undefined),
      ]);
      if (qmp) return qmp;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      throw new VmError(
        `QEMU did not open its monitor ${monitor} within ${READY_TIMEOUT_MS / 1000} s; stopped it`,
      );
    }
    await Promise.race([sleep(interval), exited]);
    interval = Math.min(interval * 2, 100);
  }
  return undefined;
}

/** The error for a QEMU that exited while starting. */
function startError(status: Deno.CommandStatus, stderr: string): VmError {
  if (status.signal === "SIGSYS") {
    return new VmError(
      "QEMU was stopped by its sandbox: these settings make it run a host program (e.g. -incoming exec:, " +
        "a netdev script= or smb=); if you trust them, start it with -o vm_qemu_sandbox=no",
    );
  }
  const why = status.signal ? `killed by ${status.signal}` : `exit ${status.code}`;
  return new VmError(`QEMU failed to start (${why}): ${stderr.trim() || "no message"}`);
}

/** Reads a stream into text in the background, until stopped or ended. */
function collect(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch { /* cancelled */ }
  })();
  return {
    /** What was read so far. */
    now: () => text,
    /** Everything, once the stream has ended (or after a short grace period). */
    text: async () => {
      let cancel: (() => void) | undefined;
      await Promise.race([done, new Promise<void>((r) => cancel = after(1000, r))]);
      cancel?.();
      return text;
    },
    /** Stops reading; the pipe closes (QEMU ignores SIGPIPE, so later messages are lost, not fatal). */
    stop: () => void reader.cancel().catch(() => {}),
  };
}

/**
 * Runs QEMU in the foreground on this terminal. Ctrl-C goes to QEMU (same
 * process group), which stops the VM; vmtools only waits for it. `onStart`
 * runs once it is spawned (to record it).
 */
export async function launchForeground(
  cmd: BuiltCommand,
  token: string,
  log: Logger,
  onStart: (pid: number, started: number) => void,
): Promise<number> {
  const args = [...cmd.args, ...tokenArgs(token)];
  log.at(5, formatCommand({ ...cmd, args }));
  const ignore = () => {};
  Deno.addSignalListener("SIGINT", ignore);
  try {
    const child = spawn(cmd.binary, args, { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    onStart(child.pid, Date.now());
    const cancel = after(3000, () => {
      for (const f of cmd.transient) removeQuietly(f);
    });
    const status = await child.status;
    cancel();
    for (const f of cmd.transient) removeQuietly(f);
    if (status.signal === "SIGSYS") throw startError(status, "");
    return status.code;
  } finally {
    Deno.removeSignalListener("SIGINT", ignore);
  }
}
