/**
 * Taking homes for a change: locking them all in one global order and
 * undoing first whatever dead commands left half done in them; and claiming
 * a new home — made when missing (with the parents it needs, remembered so
 * that an undone change removes them), locked before anything is looked at,
 * refused when it already holds a VM. Of several commands claiming one home
 * at once, exactly one gets it.
 * @module
 */
import type { Change } from "../change/change.ts";
import { recoverChanges } from "../change/recover.ts";
import { VmError } from "../errors.ts";
import { dirname, resolve } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import type { Logger } from "../ui/log.ts";
import { lockHomes, VmHome } from "./home.ts";
import type { Lock } from "./lock.ts";

/** Homes locked for a change, with a new one among them when claimed. */
export interface Claim {
  /** The locks of all the homes, taken together; {@linkcode Claim.release} releases them. */
  lock: Lock;
  /** The new home, for {@linkcode claimNewHome}. */
  home?: VmHome;
  /** The directories made for the new home, outermost first. */
  made: string[];
  /** Records the directories made and the new home's lock file as steps of `change`. */
  adopt(change: Change): void;
  /** Releases the locks; when the change did not happen, removes the directories made (if empty). */
  release(done: boolean): void;
}

/**
 * Locks `homes` (one global order) and undoes what dead commands left in them.
 * `again` works the homes out anew: `homes` were found before the locks, and
 * a command that held them may have added a child or moved one away since —
 * a {@linkcode VmError} naming it then, nothing done.
 */
export async function lockForChange(
  homes: readonly VmHome[],
  log: Logger,
  again?: () => readonly VmHome[],
): Promise<Claim> {
  const lock = await lockHomes(homes);
  try {
    for (const h of homes) await recoverChanges(h.path, h.tool.get("cfg_file_tmpdir"), log);
    if (again) sameHomes(homes, again());
  } catch (e) {
    lock.release();
    throw e;
  }
  return { lock, made: [], adopt: () => {}, release: () => lock.release() };
}

/** Refuses when `now` (found under the locks) is not the set of homes `before` locked. */
function sameHomes(before: readonly VmHome[], now: readonly VmHome[]): void {
  const was = new Set(before.map((h) => h.path)), is = new Set(now.map((h) => h.path));
  const changed = [...is].find((p) => !was.has(p)) ?? [...was].find((p) => !is.has(p));
  if (changed === undefined) return;
  throw new VmError(
    `${changed}: ${was.has(changed) ? "left" : "joined"} the VMs this change concerns while it waited ` +
      `for their locks (another command ran); nothing was done: run it again`,
  );
}

/**
 * Claims `path` for a new VM, locking `others` with it (one global order):
 * makes the directory when missing, then refuses it when it holds a VM.
 * `shown` names it in messages.
 */
export async function claimNewHome(
  path: string,
  shown: string,
  tool: Settings,
  log: Logger,
  others: readonly VmHome[] = [],
): Promise<Claim> {
  const home = new VmHome(path, tool);
  const made = makeDirs(home.path, shown);
  let claim: Claim;
  try {
    claim = await lockForChange([home, ...others], log);
  } catch (e) {
    removeEmptyDirs(made);
    throw e;
  }
  if (VmHome.isHome(home.path, tool)) {
    claim.release(false);
    removeEmptyDirs(made);
    throw new VmError(`${shown}: already holds a VM`);
  }
  return {
    lock: claim.lock,
    home,
    made,
    adopt: (change) => {
      for (const dir of made) change.made(dir);
      if (made.length) change.madeLock(home.lockPath);
    },
    release: (done) => {
      claim.lock.release();
      if (!done) removeEmptyDirs(made);
    },
  };
}

/**
 * Claims `path` for a new VM as steps of `change` (whose journal lives in
 * another home, already locked): the directories made and the lock file
 * are recorded before they are made, so that undoing the change — even
 * after a kill — removes them. Returns the new home's lock.
 */
export async function claimInChange(
  change: Change,
  path: string,
  shown: string,
  tool: Settings,
  log: Logger,
): Promise<Lock> {
  const home = new VmHome(path, tool);
  isThere(home.path, shown); // a file in the way is an error naming it
  change.mkdirs(home.path);
  change.madeLock(home.lockPath);
  const lock = await home.lock();
  try {
    await recoverChanges(home.path, tool.get("cfg_file_tmpdir"), log);
    if (VmHome.isHome(home.path, tool)) throw new VmError(`${shown}: already holds a VM`);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

/** Makes `home` and its missing parents; returns those made, outermost first. */
function makeDirs(home: string, shown: string): string[] {
  const missing: string[] = [];
  for (let dir = home; !isThere(dir, shown); dir = dirname(dir)) missing.unshift(dir);
  for (const [i, dir] of missing.entries()) {
    try {
      Deno.mkdirSync(dir, { mode: 0o755 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        // Another command made it first: from here on it is not ours.
        missing.splice(i);
        return [...missing, ...makeDirs(home, shown)];
      }
      removeEmptyDirs(missing.slice(0, i));
      throw new VmError(`${dir}: cannot make the directory: ${(e as Error).message}`);
    }
  }
  return missing;
}

/** Whether `dir` exists (as a directory: anything else there is an error naming it). */
function isThere(dir: string, shown: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new VmError(`${dir}: ${(e as Error).message}`);
  }
  if (!info.isDirectory) {
    throw new VmError(`${dir === resolve(shown) ? shown : dir}: exists and is not a directory`);
  }
  return true;
}

/** Removes the directories in `dirs` that are empty, innermost first. */
export function removeEmptyDirs(dirs: readonly string[]): void {
  for (const dir of [...dirs].reverse()) {
    try {
      Deno.removeSync(dir);
    } catch { /* not empty, or already gone */ }
  }
}
