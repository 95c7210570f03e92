/**
 * Attaching to a guest's serial console, served by QEMU on a unix socket
 * (`vm_serial_mode=socket`). On a terminal the keys go to the guest raw and
 * Ctrl-] detaches; from a pipe the input is sent and the guest's answer
 * collected until it has been quiet for a moment.
 * @module
 */
import { VmError } from "../errors.ts";
import { QmpClient } from "../qmp/client.ts";
import { after } from "../timer.ts";
import { acquireLock, type Lock } from "../home/lock.ts";
import { type LineMatcher, notPrintedInTime, showPattern } from "./expect.ts";

/** The byte Ctrl-] sends, which detaches from the console. */
export const DETACH_BYTE = 0x1d;

/** Something bytes can be written to (stdout, a socket). */
export interface ByteSink {
  /** Writes some of `p`; returns how many bytes it took ({@linkcode writeAll} writes the rest). */
  write(p: Uint8Array): Promise<number>;
}

/** Options of {@linkcode attachTerminal} and {@linkcode attachPiped}. */
export interface ConsoleOptions {
  /** Names the VM in messages. */
  label: string;
  /** Receives what the guest prints. */
  stdout: ByteSink;
  /** Messages for the user (stderr). */
  notice(text: string): void;
}

/**
 * Claims the serial console at `socket` for this process: QEMU serves one
 * client at a time and leaves others waiting silently, so a second one is
 * told at once who holds it. vmmon holds a lock beside the socket while
 * attached (naming itself); any other client shows in QEMU's own view of
 * its character devices (`query-chardev` on the `monitor` socket).
 * Returns the lock to release when detaching (none where it cannot be made).
 */
export async function claimSerial(socket: string, monitor: string, label: string): Promise<Lock | undefined> {
  let lock: Lock | undefined;
  try {
    lock = await acquireLock(`${socket}.lock`, 0);
  } catch (e) {
    const holder = /locked by process (\d+)/.exec((e as Error).message)?.[1];
    if (holder) {
      throw new VmError(`${label}: the serial console is in use by process ${holder} (another vmmon -s)`);
    }
  }
  if (await connectedElsewhere(socket, monitor)) {
    lock?.release();
    throw new VmError(`${label}: the serial console is in use by another program (one client at a time)`);
  }
  return lock;
}

/** Whether QEMU reports a client on the socket character device at `socket`. */
async function connectedElsewhere(socket: string, monitor: string): Promise<boolean> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(monitor, { timeoutMs: 2000 });
    const devs = await qmp.execute<{ filename: string }[]>("query-chardev", undefined, { timeoutMs: 2000 });
    // "disconnected:unix:PATH,server=on" while nobody is attached.
    return devs.some((d) => d.filename.startsWith(`unix:${socket},`));
  } catch {
    return false; // no monitor to ask: connecting will tell
  } finally {
    qmp?.close();
  }
}

/** Connects to the serial socket, turning failures into messages naming the VM. */
export async function connectSerial(
  socket: string,
  label: string,
): Promise<Deno.UnixConn> {
  try {
    return await Deno.connect({ transport: "unix", path: socket });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new VmError(
        `${label}: no serial console socket ${socket} (the VM is not running, or vm_serial_mode is not 'socket')`,
      );
    }
    if (e instanceof Deno.errors.ConnectionRefused) {
      throw new VmError(
        `${label}: not running (nothing listens on ${socket})`,
      );
    }
    if (e instanceof Deno.errors.NotCapable) throw e;
    throw new VmError(`${label}: ${socket}: ${(e as Error).message}`);
  }
}

/** Writes all of `data` to `sink`. */
export async function writeAll(sink: ByteSink, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    offset += await sink.write(data.subarray(offset));
  }
}

/** Copies the guest's output to `sink` until the connection ends; calls `onData` on each chunk. */
async function pumpGuest(
  conn: Deno.UnixConn,
  sink: ByteSink,
  onData: (chunk: Uint8Array) => void,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      onData(buf.subarray(0, n));
      await writeAll(sink, buf.subarray(0, n));
    }
  } catch {
    // The connection was closed by us: done.
  }
}

/**
 * Interactive use: the terminal goes raw (Ctrl-C and friends reach the
 * guest), everything typed is sent, everything received is shown, until
 * Ctrl-] or the VM closes the console. Returns the exit status.
 */
export async function attachTerminal(
  conn: Deno.UnixConn,
  opts: ConsoleOptions,
): Promise<number> {
  const stdin = Deno.stdin;
  opts.notice(
    `Connected to the serial console of ${opts.label}; Ctrl-] detaches.\n`,
  );
  stdin.setRaw(true);
  let end: "detached" | "input" | "guest" = "guest";
  const fromGuest = pumpGuest(conn, opts.stdout, () => {});
  const toGuest = (async () => {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await stdin.read(buf);
        if (n === null) {
          end = "input";
          return;
        }
        const chunk = buf.subarray(0, n);
        const stop = chunk.indexOf(DETACH_BYTE);
        if (stop >= 0) {
          await writeAll(conn, chunk.subarray(0, stop));
          end = "detached";
          return;
        }
        await writeAll(conn, chunk);
      }
    } catch {
      // The guest side went away while we were writing.
    }
  })();
  try {
    await Promise.race([fromGuest, toGuest]);
  } finally {
    stdin.setRaw(false);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
  opts.notice(
    end === "guest"
      ? `\nThe serial console of ${opts.label} was closed (the VM stopped).\n`
      : `\nDetached from ${opts.label}; the VM keeps running.\n`,
  );
  return 0;
}

/** Options of {@linkcode attachPiped}. */
export interface PipedOptions extends ConsoleOptions {
  /** The input to send. */
  input: ReadableStream<Uint8Array>;
  /** After the input ends, how long the guest may stay silent before we leave. */
  quietMs: number;
  /**
   * How long to wait for the guest's first answer to input that was sent,
   * for a guest slowed down by a busy host (default: `quietMs`).
   */
  firstAnswerMs?: number;
  /**
   * `--expect`: instead of waiting for the guest to fall silent, wait until
   * what it prints from now on holds a line this matcher finds.
   */
  expect?: LineMatcher;
  /** How long to wait for that line (ms); no limit when absent. */
  expectMs?: number;
}

/**
 * Scripted use: sends all of `input` to the guest while copying what it
 * prints, then keeps listening until the guest has been silent for
 * `quietMs` (or, when it has not answered the input at all yet, for
 * `firstAnswerMs`). Returns 0; throws a {@linkcode VmError} when the VM
 * closed the console before the input was all sent.
 */
export async function attachPiped(
  conn: Deno.UnixConn,
  opts: PipedOptions,
): Promise<number> {
  const started = Date.now();
  let last = started;
  let sentAt: number | undefined;
  let answered = false;
  let guestGone = false;
  let matched: (() => void) | undefined;
  const match = new Promise<void>((r) => matched = r);
  const fromGuest = pumpGuest(conn, opts.stdout, (chunk) => {
    last = Date.now();
    if (sentAt !== undefined) answered = true;
    if (opts.expect?.feed(chunk) !== undefined) matched!();
  }).then(() => {
    guestGone = true;
  });
  let sent = true;
  try {
    for await (const chunk of opts.input) {
      if (guestGone) {
        sent = false;
        break;
      }
      sentAt ??= Date.now();
      await writeAll(conn, chunk);
    }
  } catch {
    sent = false;
  }
  const inputEnd = Date.now();
  if (opts.expect) {
    return await expectLine(conn, opts.expect, { ...opts, started, sent, fromGuest, match });
  }
  const firstAnswerMs = opts.firstAnswerMs ?? opts.quietMs;
  while (!guestGone) {
    const until = sentAt !== undefined && !answered
      ? inputEnd + firstAnswerMs
      : Math.max(last, inputEnd) + opts.quietMs;
    const wait = until - Date.now();
    if (wait <= 0) break;
    let cancelTimer: (() => void) | undefined;
    await Promise.race([
      fromGuest,
      new Promise<void>((r) => cancelTimer = after(Math.min(wait, opts.quietMs), r)),
    ]);
    cancelTimer?.();
  }
  try {
    conn.close();
  } catch { /* closed by QEMU */ }
  await fromGuest;
  if (!sent) {
    throw new VmError(
      `${opts.label}: the serial console closed before all input was sent (the VM stopped)`,
    );
  }
  return 0;
}

/**
 * The end of {@linkcode attachPiped} with `--expect`: waits for the line,
 * the console closing or the time running out, whichever comes first.
 */
async function expectLine(
  conn: Deno.UnixConn,
  matcher: LineMatcher,
  w: PipedOptions & { started: number; sent: boolean; fromGuest: Promise<void>; match: Promise<void> },
): Promise<number> {
  let cancelTimer: (() => void) | undefined;
  const timeUp = w.expectMs === undefined ? new Promise<void>(() => {}) : new Promise<void>((r) => {
    cancelTimer = after(Math.max(0, w.started + w.expectMs! - Date.now()), r);
  });
  const end = await Promise.race([
    w.match.then(() => "matched" as const),
    w.fromGuest.then(() => "closed" as const),
    timeUp.then(() => "time" as const),
  ]);
  cancelTimer?.();
  try {
    conn.close();
  } catch { /* closed by QEMU */ }
  await w.fromGuest;
  if (matcher.matched !== undefined) return 0;
  const pattern = showPattern(matcher.pattern);
  if (!w.sent) {
    throw new VmError(`${w.label}: the serial console closed before all input was sent (the VM stopped)`);
  }
  if (end === "closed") {
    throw new VmError(
      `${w.label}: the serial console closed (the VM stopped) before a line matched ${pattern}`,
    );
  }
  throw notPrintedInTime(w.label, matcher.pattern, w.expectMs!);
}
