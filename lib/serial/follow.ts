/**
 * Following a guest's serial log like `tail -f`: what is there, then what
 * the guest adds, until its QEMU stops. A VM restart truncates or replaces
 * the log; following starts over at its beginning then.
 * @module
 */
import { VmError } from "../errors.ts";
import { isListening } from "../running/process.ts";
import { type ByteSink, writeAll } from "./console.ts";
import { QueryFilter } from "./queries.ts";
import { sleep } from "../timer.ts";

/** Options of {@linkcode followLog}. */
export interface FollowOptions {
  /** Names the VM in messages. */
  label: string;
  /** The VM's QMP socket: following stops once nothing listens on it. */
  monitor: string;
  /** Whether the VM still runs, when its monitor socket cannot tell (a VM under libvirt). */
  alive?: () => Promise<boolean>;
  /** Receives the log's bytes. */
  stdout: ByteSink;
  /** Messages for the user (stderr). */
  notice(text: string): void;
  /** How often to look for new data (default 200 ms). */
  pollMs?: number;
  /** How often to check that the VM still runs (default 1000 ms). */
  checkMs?: number;
}

/**
 * Prints the log at `path` and then whatever is appended, until the VM
 * stops (or the process is interrupted). A VM that is not running gets its
 * last log printed once. Returns the exit status.
 */
export async function followLog(
  path: string,
  opts: FollowOptions,
): Promise<number> {
  const pollMs = opts.pollMs ?? 200;
  const checkMs = opts.checkMs ?? 1000;
  const alive = opts.alive ?? (() => isListening(opts.monitor));
  let running = await alive();
  let file = openLog(path);
  if (!file) {
    if (!running) {
      throw new VmError(
        `${opts.label}: no serial log ${path} (the VM never ran with vm_serial_mode 'socket' or 'log')`,
      );
    }
    opts.notice(`${opts.label}: waiting for ${path} to appear\n`);
  }
  if (!running) {
    opts.notice(`${opts.label} is not running; this is the log of its last run\n`);
  }
  const buf = new Uint8Array(64 * 1024);
  // The user's terminal would answer the guest's queries into their shell.
  const queries = new QueryFilter();
  const sink: ByteSink = {
    write: async (p) => {
      await writeAll(opts.stdout, queries.filter(p));
      return p.length;
    },
  };
  let lastCheck = Date.now();
  try {
    for (;;) {
      if (file) {
        const change = changeOf(path, file);
        if (change === "replaced") {
          file.close();
          file = openLog(path);
        } else if (change === "truncated") {
          file.seekSync(0, Deno.SeekMode.Start);
        }
        if (change) opts.notice(`--- ${path} started over ---\n`);
      } else {
        file = openLog(path);
      }
      if (file) await drain(file, buf, sink);
      if (!running) {
        await writeAll(opts.stdout, queries.flush());
        return 0;
      }
      await sleep(pollMs);
      if (Date.now() - lastCheck >= checkMs) {
        lastCheck = Date.now();
        // One last round reads what the guest wrote before QEMU stopped.
        running = await alive();
      }
    }
  } finally {
    file?.close();
  }
}

/**
 * Opens the serial log at `path` for reading; `undefined` while there is
 * none. Anything but a regular file is refused: opening a FIFO (which a
 * home from elsewhere may hold, or its record name) would block until a
 * writer came, and no timeout can end a blocked open.
 */
export function openLog(path: string): Deno.FsFile | undefined {
  try {
    if (!Deno.statSync(path).isFile) throw new VmError(`${path}: not a regular file, so not a serial log`);
    return Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof VmError) throw e;
    throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
  }
}

/** Whether `path` is now another file, or shorter than what was read of it. */
function changeOf(
  path: string,
  file: Deno.FsFile,
): "replaced" | "truncated" | undefined {
  let now: Deno.FileInfo;
  try {
    now = Deno.statSync(path);
  } catch {
    return undefined; // removed: keep the old one until a new one comes
  }
  const open = file.statSync();
  if (now.ino !== null && open.ino !== null && now.ino !== open.ino) {
    return "replaced";
  }
  return open.size < file.seekSync(0, Deno.SeekMode.Current) ? "truncated" : undefined;
}

/** Copies everything from the current position to the end of `file`. */
async function drain(
  file: Deno.FsFile,
  buf: Uint8Array,
  sink: ByteSink,
): Promise<void> {
  for (;;) {
    const n = file.readSync(buf);
    if (n === null || n === 0) return;
    await writeAll(sink, buf.subarray(0, n));
  }
}
