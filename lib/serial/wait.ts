/**
 * Waiting until a guest's serial log holds a line matching a pattern: the
 * log file QEMU writes (vmtools' own, whatever `vm_serial_mode` serves, or a
 * `-serial file:` of the user's) is read as it grows, from its start (what
 * the guest printed since its VM started) or from its current end.
 * @module
 */
import { VmError } from "../errors.ts";
import type { VmTarget } from "../running/locate.ts";
import { isAlive } from "../running/alive.ts";
import { readRecord, recordedOutputs } from "../running/record.ts";
import { sleep } from "../timer.ts";
import { type ByteSink, writeAll } from "./console.ts";
import { type LineMatcher, notPrintedInTime, showPattern } from "./expect.ts";
import { openLog } from "./follow.ts";

/** Options of {@linkcode waitInLog}. */
export interface WaitOptions {
  /** Names the VM in messages. */
  label: string;
  /** Give up after this long (ms); no limit when absent. */
  timeoutMs?: number;
  /** Whether the VM still runs; asked about once a second. */
  running(): Promise<boolean>;
  /** Start at the log's current end instead of its beginning. */
  fromEnd?: boolean;
  /** Receives everything read (vmmon prints it). */
  onOutput?(bytes: Uint8Array): Promise<void>;
  /** How often to look for new output (default 100 ms). */
  pollMs?: number;
}

/**
 * Reads the log at `path` until `matcher` finds its line, and returns that
 * line. Throws a {@linkcode VmError} when the time is up (the VM is left
 * running) or the VM stopped first. A log that starts over (the VM was
 * restarted) is read again from its beginning.
 */
export async function waitInLog(path: string, matcher: LineMatcher, opts: WaitOptions): Promise<string> {
  const started = Date.now();
  const deadline = opts.timeoutMs === undefined ? Infinity : started + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 100;
  const buf = new Uint8Array(64 * 1024);
  let file: Deno.FsFile | undefined;
  let lastCheck = started;
  let running = true;
  let first = true;
  try {
    for (;;) {
      file = reopened(path, file, matcher, opts.fromEnd && first);
      first = false;
      for (;;) {
        const n = file?.readSync(buf) ?? null;
        if (!n) break;
        const chunk = buf.subarray(0, n);
        await opts.onOutput?.(chunk);
        const line = matcher.feed(chunk);
        if (line !== undefined) return line;
      }
      // The last round read what the guest printed before its QEMU stopped.
      if (!running) {
        throw new VmError(
          `${opts.label}: the VM stopped before its serial console printed a line matching ${
            showPattern(matcher.pattern)
          } (log: ${path})`,
        );
      }
      const now = Date.now();
      if (now >= deadline) {
        throw notPrintedInTime(opts.label, matcher.pattern, opts.timeoutMs!, ` (log: ${path})`);
      }
      if (now - lastCheck >= 1000) {
        lastCheck = now;
        running = await opts.running();
        continue;
      }
      await sleep(Math.min(pollMs, deadline - now));
    }
  } finally {
    file?.close();
  }
}

/**
 * The open log, opened again when the path now names another file or the
 * file got shorter than what was read (the guest's output started over);
 * `undefined` while there is no log yet.
 */
function reopened(
  path: string,
  file: Deno.FsFile | undefined,
  matcher: LineMatcher,
  atEnd: boolean | undefined,
): Deno.FsFile | undefined {
  let now: Deno.FileInfo;
  try {
    now = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return file;
    throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
  }
  if (file) {
    const open = file.statSync();
    const replaced = now.ino !== null && open.ino !== null && now.ino !== open.ino;
    if (!replaced && now.size >= file.seekSync(0, Deno.SeekMode.Current)) return file;
    file.close();
    matcher.reset();
  }
  const opened = openLog(path);
  if (atEnd) opened?.seekSync(0, Deno.SeekMode.End);
  return opened;
}

/** Options of {@linkcode expectInLog}. */
export interface ExpectInLogOptions {
  /** Give up after this long (ms); no limit when absent. */
  timeoutMs?: number;
  /** Receives what the guest prints. */
  stdout: ByteSink;
  /** Piped input, which must be empty: a log cannot pass input on. */
  input?: ReadableStream<Uint8Array>;
}

/**
 * `vmmon -s --expect` on a VM whose serial console has no socket
 * (`vm_serial_mode=log`): prints what the guest adds to its log from now
 * on, until a line matches. Returns the exit status.
 */
export async function expectInLog(
  target: VmTarget,
  matcher: LineMatcher,
  opts: ExpectInLogOptions,
): Promise<number> {
  const record = readRecord(target.files);
  const log = record ? recordedOutputs(record, target.files).log : target.files.serialLog;
  if (!log || !(await isAlive(target.files))) {
    throw new VmError(
      `${target.label}: no serial console (the VM is not running, or has neither a console socket nor a serial log)`,
    );
  }
  if (opts.input) {
    for await (const chunk of opts.input) {
      if (chunk.length) {
        throw new VmError(
          `${target.label}: no serial console socket to send input to (only vm_serial_mode=socket has one; ` +
            `without input, --expect watches the serial log)`,
        );
      }
    }
  }
  await waitInLog(log, matcher, {
    label: target.label,
    timeoutMs: opts.timeoutMs,
    running: () => isAlive(target.files),
    fromEnd: true,
    onOutput: (bytes) => writeAll(opts.stdout, bytes),
  });
  return 0;
}
