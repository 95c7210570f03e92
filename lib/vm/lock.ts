/**
 * A per-VM lock against concurrent changes: a symbolic link whose target is
 * the holder's pid, created atomically. A lock whose holder is gone is
 * taken over; a live one is waited for up to `cfg_limit_waitlock` seconds.
 * @module
 */
import { VmError } from "../errors.ts";
import { run } from "../spawn.ts";
import { sleep } from "../timer.ts";

/** A held lock; release it when done. */
export interface Lock {
  path: string;
  release(): void;
}

/** Takes the lock at `path`, waiting up to `waitSeconds`. */
export async function acquireLock(
  path: string,
  waitSeconds: number,
): Promise<Lock> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    try {
      Deno.symlinkSync(String(Deno.pid), path);
      return {
        path,
        release: () => {
          try {
            Deno.removeSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        throw new VmError(
          `${path}: cannot create lock: ${(e as Error).message}`,
        );
      }
    }
    const holder = lockHolder(path);
    if (holder === undefined || !(await alive(holder))) {
      try {
        Deno.removeSync(path);
      } catch { /* someone else cleaned it */ }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new VmError(
        `${path}: locked by process ${holder} (waited ${waitSeconds}s; see cfg_limit_waitlock)`,
      );
    }
    await sleep(100);
  }
}

/** The pid a lock names, if readable. */
export function lockHolder(path: string): number | undefined {
  try {
    const n = Number(Deno.readLinkSync(path));
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process lives (zombies do not). /proc is closed to vmtools, so ask ps. */
async function alive(pid: number): Promise<boolean> {
  const r = await run("ps", ["-o", "stat=", "-p", String(pid)]);
  return r.code === 0 && !/^[ZX]/.test(r.stdout.trim());
}
