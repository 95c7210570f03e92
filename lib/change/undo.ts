/**
 * Undoing journal entries, for a change that fails or is interrupted and for
 * the journal of one that was killed. Every undo tolerates a step that was
 * written down but never carried out.
 * @module
 */
import { holdsLock, tryLock } from "../home/lock.ts";
import { runSync } from "../spawn.ts";
import type { Entry } from "./journal.ts";
import { exists } from "../fs.ts";

/**
 * Undoes the file-system entries of a journal, last first; returns what
 * could not be undone. `live` is true for the process that made the change
 * (it still holds the locks it recorded), false for a later recovery.
 */
export function undoEntries(entries: readonly Entry[], live: boolean): string[] {
  const problems: string[] = [];
  for (const entry of [...entries].reverse()) {
    try {
      if (entry.op === "lock") {
        // Ours to remove only if this change holds it; a recovering command
        // may hold it too (it locked the home to recover it): then the home
        // stays. Nobody else's lock file goes — not even that of the command
        // a change gave up waiting for. Free, it is taken first: a command
        // may be taking it right now.
        if (live && holdsLock(entry.path)) removeIfThere(entry.path, false);
        else tryLock(entry.path)?.release();
        continue;
      }
      undoOne(entry);
    } catch (e) {
      problems.push(`${describe(entry)}: ${(e as Error).message}`);
    }
  }
  return problems;
}

function undoOne(entry: Entry): void {
  switch (entry.op) {
    case "create":
    case "pointer":
      removeIfThere(entry.path, true);
      break;
    case "mkdir":
      try {
        Deno.removeSync(entry.path); // only when empty: it may hold things that are not ours
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound) && !isNotEmpty(e)) throw e;
      }
      break;
    case "keep":
      if (exists(entry.copy)) Deno.renameSync(entry.copy, entry.path);
      break;
    case "rename":
      if (exists(entry.to) && !exists(entry.from)) Deno.renameSync(entry.to, entry.from);
      break;
    case "trash":
      if (!exists(entry.to)) break;
      // Made anew meanwhile: the original stays where it is, with the journal that says so.
      if (exists(entry.path)) {
        throw new Error(`${entry.path} exists again; the original is kept as ${entry.to}`);
      }
      Deno.renameSync(entry.to, entry.path);
      break;
    case "backing": {
      if (!exists(entry.path)) break;
      const args = entry.old ? ["-b", entry.old, "-F", entry.format] : ["-b", ""];
      if (runSync("qemu-img", ["rebase", "-u", ...args, entry.path]) !== 0) {
        throw new Error("qemu-img rebase failed");
      }
      break;
    }
    case "begin":
    case "lock":
    case "forward":
    case "proc":
    case "commit":
      break;
  }
}

function describe(entry: Entry): string {
  switch (entry.op) {
    case "create":
      return `removing ${entry.path}`;
    case "mkdir":
      return `removing directory ${entry.path}`;
    case "keep":
      return `restoring ${entry.path} from ${entry.copy}`;
    case "rename":
      return `renaming ${entry.to} back to ${entry.from}`;
    case "trash":
      return `restoring ${entry.path} from ${entry.to}`;
    case "backing":
      return `pointing ${entry.path} back to ${entry.old || "no backing file"}`;
    default:
      return entry.op;
  }
}

/**
 * Finishes a committed change: deletes for good what it moved to backup
 * directories, then the backup directories it made beside the data.
 */
export function finishEntries(entries: readonly Entry[], backupDir: string): string[] {
  const problems: string[] = [];
  const extraDirs = new Set<string>();
  for (const entry of entries) {
    if (entry.op === "pointer") {
      try {
        removeIfThere(entry.path, true);
      } catch (e) {
        problems.push(`deleting ${entry.path}: ${(e as Error).message}`);
      }
    }
    if (entry.op !== "trash") continue;
    try {
      removeIfThere(entry.to, true);
    } catch (e) {
      problems.push(`deleting ${entry.to}: ${(e as Error).message}`);
    }
    const dir = entry.to.slice(0, entry.to.lastIndexOf("/"));
    if (dir !== backupDir) extraDirs.add(dir);
  }
  for (const dir of extraDirs) {
    try {
      removeIfThere(dir, true);
    } catch (e) {
      problems.push(`deleting ${dir}: ${(e as Error).message}`);
    }
  }
  return problems;
}

function removeIfThere(path: string, recursive: boolean): void {
  try {
    Deno.removeSync(path, { recursive });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function isNotEmpty(e: unknown): boolean {
  return e instanceof Error && /not empty/i.test(e.message);
}
