/**
 * The journal of a multi-step change: one JSON object a line in the file
 * `journal` of a backup directory (`cfg_file_tmpdir`, made beside the data so
 * that renames stay on one file system). Each step is written before it is
 * carried out, so that whatever a killed process leaves behind can be undone
 * from the journal alone (see `recover.ts`).
 * @module
 */
import { VmError } from "../errors.ts";

/** One line of a journal. Every path is absolute. */
export type Entry =
  /** Opens the journal: who changes what. */
  | { op: "begin"; pid: number; time: number; label: string }
  /** A directory was made (undone by removing it if it is empty). */
  | { op: "mkdir"; path: string }
  /** The lock file of a home this change made (removed when undone, unless a recovering command holds it). */
  | { op: "lock"; path: string }
  /** A file or directory tree is about to be made where nothing was (undone by removing it). */
  | { op: "create"; path: string }
  /** `path` is about to change; its original was saved as `copy` (undone by moving it back). */
  | { op: "keep"; path: string; copy: string }
  /** `path` is about to be deleted: moved to `to` in a backup directory (undone by moving it back; gone once committed). */
  | { op: "trash"; path: string; to: string }
  /** `from` is about to be renamed to `to` (undone by renaming it back). */
  | { op: "rename"; from: string; to: string }
  /** The backing file stored in the image `path` is about to change from `old` (`""`: none) of format `format`. */
  | { op: "backing"; path: string; old: string; format: string }
  /** A helper program was started (undone by stopping it, if it still runs). */
  | { op: "proc"; pid: number; program: string; time: number }
  /**
   * A pointer to this journal left in another directory the change touches
   * (`path` is the pointer's own backup directory), so that the next command
   * there finds the journal (removed on undo and on commit).
   */
  | { op: "pointer"; path: string }
  /**
   * From here on the change cannot be undone (data was merged in place): a
   * recovery finishes it instead, by running the finisher of `kind` on `plan`.
   */
  | { op: "forward"; kind: string; plan: unknown }
  /** The change is complete: nothing is undone, the directory only removed. */
  | { op: "commit" };

/** The name of the journal file inside a backup directory. */
export const JOURNAL_FILE = "journal";

/** The name of the file that makes a backup directory a pointer to a journal elsewhere. */
export const POINTER_FILE = "pointer";

/** Backup directory names of a `cfg_file_tmpdir` pattern: its trailing X's become random letters. */
export function backupDirPattern(
  pattern: string,
): { prefix: string; width: number; test(name: string): boolean } {
  const m = /^(.*?)(X*)$/.exec(pattern)!;
  const prefix = m[1], width = m[2].length;
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[A-Za-z0-9]{${width}}$`);
  return { prefix, width, test: (name) => re.test(name) };
}

/** A fresh name for a backup directory in `dir` (not made). */
export function backupDirName(dir: string, pattern: string): string {
  const { prefix, width } = backupDirPattern(pattern);
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const random = [...crypto.getRandomValues(new Uint8Array(width))].map((b) => letters[b % letters.length]);
  return `${dir}/${prefix}${random.join("")}`;
}

/** Makes a fresh private backup directory in `dir`. */
export function makeBackupDir(dir: string, pattern: string): string {
  for (let attempt = 0;; attempt++) {
    const path = backupDirName(dir, pattern);
    try {
      Deno.mkdirSync(path, { mode: 0o700 });
      return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists) || attempt > 20) {
        throw new VmError(`${path}: cannot make a backup directory: ${(e as Error).message}`);
      }
    }
  }
}

/** Appends entries to a journal file. */
export class JournalWriter {
  #file: Deno.FsFile;

  /** Opens the journal at `path` to append to (made mode 0600 if missing); a `VmError` if it cannot. */
  constructor(readonly path: string) {
    try {
      this.#file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    } catch (e) {
      throw new VmError(`${path}: cannot write the change journal: ${(e as Error).message}`);
    }
  }

  /** Writes one entry (a whole line in one write, so a kill never leaves half a line). */
  write(entry: Entry): void {
    const line = new TextEncoder().encode(JSON.stringify(entry) + "\n");
    let done = 0;
    try {
      while (done < line.length) done += this.#file.writeSync(line.subarray(done));
    } catch (e) {
      // A full disk, say: a torn line is ignored when the journal is read.
      throw new VmError(`${this.path}: cannot write the change journal: ${(e as Error).message}`);
    }
  }

  /** Closes the file; closing twice is harmless. */
  close(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}

/** Reads a journal; a torn last line (a kill mid-write) is ignored. */
export function readJournal(path: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of Deno.readTextFileSync(path).split("\n")) {
    if (line === "") continue;
    try {
      const entry = JSON.parse(line);
      if (entry && typeof entry.op === "string") entries.push(entry as Entry);
    } catch { /* torn line */ }
  }
  return entries;
}
