/**
 * A per-VM lock against concurrent changes: an advisory `flock` on the lock
 * file (`cfg_file_lock`). The kernel drops it when its holder exits, however
 * it exits, so a lock is never stale and no process id has to be trusted.
 * The file exists only while the lock is held; it names the holder for
 * messages.
 * @module
 */
import { VmError } from "../errors.ts";
import { sleep } from "../timer.ts";

/** A held lock; release it when done. */
export interface Lock {
  /** The lock file (for locks taken together, their paths joined by spaces), for messages. */
  path: string;
  /** Removes the lock file, then unlocks it; a second call does nothing. */
  release(): void;
}

/** Takes the lock at `path`, waiting up to `waitSeconds` for its holder. */
export async function acquireLock(path: string, waitSeconds: number): Promise<Lock> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const got = tryOnce(path);
    if ("lock" in got) return got.lock;
    const { holder } = got;
    if (Date.now() >= deadline) {
      throw new VmError(
        `${path}: locked by ${
          holder ? `process ${holder}` : "another process"
        } (waited ${waitSeconds}s; see cfg_limit_waitlock)`,
      );
    }
    await sleep(100);
  }
}

/**
 * Takes the lock at `path` if nobody holds it, without waiting. Whoever
 * removes a lock file nobody holds (`vmfix -l`) or works in a home that
 * must be idle does so holding it: a check, then the work, would let a
 * command take the lock in between.
 */
export function tryLock(path: string): Lock | undefined {
  const got = tryOnce(path);
  return "lock" in got ? got.lock : undefined;
}

function tryOnce(path: string): { lock: Lock } | { holder: number | undefined } {
  for (;;) {
    clearLegacyLock(path);
    const file = openLockFile(path);
    if (file.tryLockSync(true)) {
      // The holder before us unlinks the file before unlocking it: a lock on
      // a file no longer at `path` protects nothing, so try again.
      if (sameFile(file, path)) return { lock: held(file, path) };
      file.close();
      continue;
    }
    const holder = readHolder(file);
    file.close();
    return { holder };
  }
}

/** Whether this process holds the lock at `path`. */
export function holdsLock(path: string): boolean {
  return [...heldLocks].some((l) => l.path === path);
}

/** Whether someone holds the lock at `path` right now. */
export function isLocked(path: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return false;
  }
  try {
    return !file.tryLockSync(true);
  } finally {
    file.close();
  }
}

/** The process named in a lock file, if it is held. */
export function lockHolder(path: string): number | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    return file.tryLockSync(true) ? undefined : readHolder(file);
  } finally {
    file.close();
  }
}

function openLockFile(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
  } catch (e) {
    throw new VmError(`${path}: cannot create lock: ${(e as Error).message}`);
  }
}

function held(file: Deno.FsFile, path: string): Lock {
  try {
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch {
    // Only says who holds it (the flock is the lock): a full disk must not stop here, but where it matters.
  }
  let released = false;
  const lock: Lock = {
    path,
    release: () => {
      if (released) return;
      released = true;
      heldLocks.delete(lock);
      try {
        Deno.removeSync(path);
      } catch { /* removed by hand */ }
      file.close();
    },
  };
  heldLocks.add(lock);
  if (heldLocks.size === 1) globalThis.addEventListener("unload", releaseHeldLocks);
  return lock;
}

/** The locks this process holds, released when it exits (Ctrl-C undoes a change and exits at once). */
const heldLocks = new Set<Lock>();

function releaseHeldLocks(): void {
  for (const lock of [...heldLocks]) lock.release();
}

function sameFile(file: Deno.FsFile, path: string): boolean {
  try {
    return Deno.statSync(path).ino === file.statSync().ino;
  } catch {
    return false;
  }
}

function readHolder(file: Deno.FsFile): number | undefined {
  const buf = new Uint8Array(32);
  const n = file.readSync(buf) ?? 0;
  const pid = Number(new TextDecoder().decode(buf.subarray(0, n)).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Earlier versions (and the original shell tool) locked with a symbolic link
 * naming the holder's pid. This version never makes one, and opening it would
 * follow it: remove it.
 */
function clearLegacyLock(path: string): void {
  try {
    if (Deno.lstatSync(path).isSymlink) Deno.removeSync(path);
  } catch { /* not there, or someone else cleaned it */ }
}
