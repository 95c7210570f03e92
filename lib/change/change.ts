/**
 * Multi-step changes that are all or nothing. Each step is written to a
 * journal before it is carried out; on an error, and on SIGINT or SIGTERM,
 * the steps are undone last first and the helper programs started for the
 * change are stopped. A change killed outright leaves its journal behind for
 * the next command on the same home (or `vmfix`) to undo.
 *
 * Tests inject faults with `VMTOOLS_FAULT=N:fail` (the N-th step throws) or
 * `N:kill` (the process kills itself with SIGKILL at the N-th step).
 * @module
 */
import { VmError } from "../errors.ts";
import { basename, isWithin } from "../path.ts";
import { spawn, type SpawnOptions } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";
import {
  backupDirName,
  type Entry,
  JOURNAL_FILE,
  JournalWriter,
  makeBackupDir,
  POINTER_FILE,
} from "./journal.ts";
import { finishEntries, undoEntries } from "./undo.ts";
import { exists } from "../fs.ts";

/** Where and how a change keeps its journal. */
export interface ChangeOptions {
  /** The `cfg_file_tmpdir` pattern of the backup directory. */
  pattern: string;
  /** What the change is, for messages and the journal (`vmcreate /x/vm`). */
  label: string;
  /** Where warnings go when the change cannot be finished or undone in full. */
  log: Logger;
}

const active = new Set<Change>();
let signalsHeld = false;

/** A change in progress. */
export class Change {
  /** The backup directory holding the journal and saved originals. */
  readonly backupDir: string;
  /** What the change is (`vmcreate /x/vm`), from its options: named in messages and the journal. */
  readonly label: string;
  #journal: JournalWriter;
  #entries: Entry[] = [];
  #children = new Set<Deno.ChildProcess>();
  #steps = 0;
  #done = false;
  #log: Logger;
  #pattern: string;

  private constructor(dir: string, opts: ChangeOptions) {
    this.backupDir = makeBackupDir(dir, opts.pattern);
    this.#pattern = opts.pattern;
    this.label = opts.label;
    this.#log = opts.log;
    try {
      this.#journal = new JournalWriter(`${this.backupDir}/${JOURNAL_FILE}`);
      this.#journal.write({ op: "begin", pid: Deno.pid, time: Date.now(), label: opts.label });
    } catch (e) {
      // Nothing was done yet: leave nothing behind either (a full disk, say).
      try {
        Deno.removeSync(this.backupDir, { recursive: true });
      } catch { /* what cannot be removed is an empty directory vmfix -b finds */ }
      throw e;
    }
    active.add(this);
    holdSignals();
  }

  /** Starts a change whose backup directory goes in `dir` (beside the data it changes). */
  static begin(dir: string, opts: ChangeOptions): Change {
    return new Change(dir, opts);
  }

  /**
   * Leaves a pointer to this change's journal in `dir`, another directory
   * the change touches: a command that locks that directory later finds
   * the journal through it.
   */
  pointHere(dir: string): void {
    if (dir === this.backupDir.slice(0, this.backupDir.lastIndexOf("/"))) return;
    this.#pointer(dir);
  }

  /** Makes a backup directory in `dir` that points to this change's journal; returns it. */
  #pointer(dir: string): string {
    // Written down before it is made: a kill in between leaves nothing unexplained.
    const at = backupDirName(dir, this.#pattern);
    this.#record({ op: "pointer", path: at });
    Deno.mkdirSync(at, { mode: 0o700 });
    Deno.writeTextFileSync(`${at}/${POINTER_FILE}.tmp`, this.backupDir + "\n", { mode: 0o600 });
    Deno.renameSync(`${at}/${POINTER_FILE}.tmp`, `${at}/${POINTER_FILE}`);
    return at;
  }

  /**
   * Marks the point of no return: what follows changes data in place, and a
   * change killed after this is finished by the finisher of `kind` (see
   * `forward.ts`) with `plan`, instead of undone.
   */
  forward(kind: string, plan: unknown): void {
    this.#record({ op: "forward", kind, plan });
  }

  /**
   * A point where tests may make the change fail or die (`VMTOOLS_FAULT`)
   * without a step being recorded: inside work past the point of no return.
   */
  checkpoint(): void {
    this.#fault();
  }

  /** Records a directory made just before the change began (its home, say). */
  made(path: string): void {
    this.#record({ op: "mkdir", path });
  }

  /** Records the lock file of a home the change made, so that undoing it can remove the home. */
  madeLock(path: string): void {
    this.#record({ op: "lock", path });
  }

  /** Makes the directory `path` and any missing parent, recording each one made. */
  mkdirs(path: string): void {
    const missing: string[] = [];
    for (let p = path; !exists(p); p = p.slice(0, p.lastIndexOf("/")) || "/") missing.unshift(p);
    for (const p of missing) {
      this.#record({ op: "mkdir", path: p });
      Deno.mkdirSync(p, { mode: 0o755 });
    }
  }

  /** Records that `path` is about to be created where nothing is (refused when something is). */
  create(path: string): void {
    if (exists(path)) throw new VmError(`${path}: already exists; not overwriting it`);
    this.#record({ op: "create", path });
  }

  /** Saves the current content of `path` before it is changed, so that undoing restores it. */
  keep(path: string): void {
    const copy = `${this.backupDir}/${this.#entries.length}-${basename(path)}`;
    this.#record({ op: "keep", path, copy });
    // Copied aside, then renamed: undoing restores `copy` only when it is
    // whole (a full disk or a kill mid-copy must not put half a file back).
    Deno.copyFileSync(path, `${copy}.tmp`);
    Deno.renameSync(`${copy}.tmp`, copy);
  }

  /**
   * Deletes `path` (a file or a whole tree) as a step: it is moved into a
   * backup directory on its own file system, back on undo, gone for good
   * once the change commits.
   */
  trash(path: string): void {
    const dir = this.#backupOn(path);
    const to = `${dir}/${this.#entries.length}-${basename(path)}`;
    this.#record({ op: "trash", path, to });
    Deno.renameSync(path, to);
  }

  /**
   * A backup directory on the file system of `path`: the change's own, or
   * one made beside `path` — a pointer to the journal, so that a recovery
   * started there undoes the whole change instead of taking the directory
   * for an empty leftover — never one inside `path`.
   */
  #backupOn(path: string): string {
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    const dev = Deno.statSync(parent).dev;
    if (Deno.statSync(this.backupDir).dev === dev) return this.backupDir;
    let dir = this.#extraBackups.get(dev);
    if (!dir || isWithin(path, dir)) {
      dir = this.#pointer(parent);
      this.#extraBackups.set(dev, dir);
    }
    return dir;
  }

  #extraBackups = new Map<number, string>();

  /** Renames `from` to `to`, which must not exist. */
  rename(from: string, to: string): void {
    if (exists(to)) throw new VmError(`${to}: already exists; not overwriting it`);
    this.#record({ op: "rename", from, to });
    Deno.renameSync(from, to);
  }

  /** Records that the backing file of the image `path` is about to change from `old` (format `format`). */
  backing(path: string, old: string, format: string): void {
    this.#record({ op: "backing", path, old, format });
  }

  /** Starts a helper program in a process group of its own, stopped if the change is undone. */
  spawn(program: string, args: string[], opts: SpawnOptions = {}): Deno.ChildProcess {
    this.#fault();
    const child = spawn(program, args, { ...opts, detached: true });
    this.#entries.push({ op: "proc", pid: child.pid, program, time: Date.now() });
    this.#journal.write(this.#entries.at(-1)!);
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  /** Marks the change complete, deletes what it trashed, and removes its backup directories. */
  commit(): void {
    if (this.#done) return;
    this.#journal.write({ op: "commit" });
    const problems = finishEntries(this.#entries, this.backupDir);
    for (const p of problems) this.#log.warn(`could not finish: ${p}`);
    this.#finish();
  }

  /** Undoes every recorded step, last first; returns what could not be undone. */
  revert(): string[] {
    if (this.#done) return [];
    if (this.#entries.some((e) => e.op === "forward")) {
      // Past the point of no return: data was changed in place. The journal
      // stays, and the next command on this home (or vmfix) finishes it.
      this.#done = true;
      this.#journal.close();
      active.delete(this);
      if (active.size === 0) releaseSignals();
      this.#log.warn(
        `'${this.label}' is past its point of no return: it is finished by 'vmfix -b' (journal ${this.backupDir})`,
      );
      return ["past the point of no return"];
    }
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    const problems = undoEntries(this.#entries, true);
    if (problems.length) {
      for (const p of problems) this.#log.warn(`could not undo: ${p}`);
      this.#log.warn(`the journal stays in ${this.backupDir}; 'vmfix' can finish undoing`);
      this.#journal.close();
      this.#done = true;
      active.delete(this);
      return problems;
    }
    this.#finish();
    // Directories the change made that held the backup directory are empty only now.
    undoEntries(this.#entries.filter((e) => e.op === "mkdir"), true);
    return problems;
  }

  #finish(): void {
    this.#done = true;
    this.#journal.close();
    active.delete(this);
    try {
      Deno.removeSync(this.backupDir, { recursive: true });
    } catch { /* nothing left to keep */ }
    if (active.size === 0) releaseSignals();
  }

  #record(entry: Entry): void {
    if (this.#done) throw new Error(`change '${this.label}' is already over`);
    this.#fault();
    // Journaled first: a step that could not be written down is not done, nor undone.
    this.#journal.write(entry);
    this.#entries.push(entry);
  }

  /** The test hook: fail or die at the configured step. */
  #fault(): void {
    const spec = faultSpec();
    if (!spec || ++this.#steps !== spec.step) return;
    if (spec.kind === "fail") throw new VmError(`injected fault at step ${spec.step}`);
    new Deno.Command("kill", { args: ["-KILL", String(Deno.pid)] }).outputSync();
  }
}

/** Runs `fn` as one change in `dir`: committed when it returns, undone when it throws. */
export async function withChange<T>(
  dir: string,
  opts: ChangeOptions,
  fn: (change: Change) => Promise<T>,
): Promise<T> {
  const change = Change.begin(dir, opts);
  try {
    const result = await fn(change);
    change.commit();
    return result;
  } catch (e) {
    change.revert();
    throw e;
  }
}

let fault: { step: number; kind: "fail" | "kill" } | null | undefined;

function faultSpec(): { step: number; kind: "fail" | "kill" } | null {
  if (fault !== undefined) return fault;
  const m = /^(\d+):(fail|kill)$/.exec(Deno.env.get("VMTOOLS_FAULT") ?? "");
  fault = m ? { step: Number(m[1]), kind: m[2] as "fail" | "kill" } : null;
  return fault;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const onSignal: Record<(typeof SIGNALS)[number], () => void> = {
  SIGINT: () => interrupted(130),
  SIGTERM: () => interrupted(143),
};

function holdSignals(): void {
  if (signalsHeld) return;
  signalsHeld = true;
  for (const s of SIGNALS) Deno.addSignalListener(s, onSignal[s]);
}

function releaseSignals(): void {
  if (!signalsHeld) return;
  signalsHeld = false;
  for (const s of SIGNALS) Deno.removeSignalListener(s, onSignal[s]);
}

function interrupted(code: number): void {
  const changes = [...active].reverse();
  let clean = true;
  for (const change of changes) clean = change.revert().length === 0 && clean;
  const what = changes.map((c) => c.label).join(", ") || "nothing was changed";
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `\ninterrupted: ${clean ? "reverted" : "partly reverted (see above)"}: ${what}\n`,
    ),
  );
  Deno.exit(code);
}
