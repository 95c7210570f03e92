/**
 * Finishing what killed commands left: the backup directories in a home
 * whose journal belongs to a process that is gone. A committed change only
 * needs its directory removed; any other is undone, and the helper programs
 * it started are stopped if they still run.
 * @module
 */
import { run } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";
import { processStarts, sameStart } from "../running/process.ts";
import { finisherOf } from "./forward.ts";
import { backupDirPattern, type Entry, JOURNAL_FILE, POINTER_FILE, readJournal } from "./journal.ts";
import { finishEntries, undoEntries } from "./undo.ts";
import { exists, isDirectory } from "../fs.ts";
import { removeQuietly } from "../remove.ts";

/** What was found and done about one backup directory. */
export interface Recovery {
  /** The journal's backup directory (for a pointer: the one it names, or the pointer itself when stale). */
  backupDir: string;
  /** The change's label from its journal (`vmcreate /x/vm`), or what the directory was when it has none. */
  label: string;
  /**
   * `reverted`, `finished` (it had committed, or passed its point of no
   * return), `running` (its owner lives), `failed`, or `stale` (a pointer
   * left to a journal that is gone).
   */
  outcome: "reverted" | "finished" | "running" | "failed" | "stale";
  /** What could not be undone or finished, one message each; empty unless `failed`. */
  problems: string[];
}

/** The backup directories in `dir` (names matching the `cfg_file_tmpdir` pattern). */
export function backupDirsIn(dir: string, pattern: string): string[] {
  const { test } = backupDirPattern(pattern);
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) if (e.isDirectory && test(e.name)) out.push(`${dir}/${e.name}`);
  } catch { /* an unreadable home has nothing we could undo */ }
  return out.sort();
}

/**
 * Undoes or finishes the changes left in `dir` by processes that are gone:
 * their journals there, and those elsewhere that a pointer in `dir` names.
 * With `dryRun` nothing is touched; the outcomes say what would be done.
 */
export async function recoverChanges(
  dir: string,
  pattern: string,
  log: Logger,
  dryRun = false,
): Promise<Recovery[]> {
  const out: Recovery[] = [];
  for (const backupDir of backupDirsIn(dir, pattern)) {
    const target = pointerTarget(backupDir);
    if (target === "") {
      if (!dryRun) removeQuietly(backupDir, true);
      out.push({ backupDir, label: "an unfinished pointer", outcome: "stale", problems: [] });
      continue;
    }
    if (target === undefined) {
      out.push(await recoverOne(backupDir, log, dryRun));
      continue;
    }
    // A pointer: recover the journal it names (if any is left), then drop it.
    if (isDirectory(target)) out.push(await recoverOne(target, log, dryRun));
    else out.push({ backupDir, label: `pointer to ${target}`, outcome: "stale", problems: [] });
    if (!dryRun && !isDirectory(target)) removeQuietly(backupDir, true);
  }
  return out;
}

async function recoverOne(backupDir: string, log: Logger, dryRun: boolean): Promise<Recovery> {
  let entries: Entry[];
  try {
    entries = readJournal(`${backupDir}/${JOURNAL_FILE}`);
  } catch {
    entries = []; // killed before its first line: nothing was done yet
  }
  const begin = entries.find((e) => e.op === "begin");
  const label = begin?.op === "begin" ? begin.label : "an unknown change";
  if (begin?.op === "begin" && await ownerLives(begin.pid, begin.time)) {
    return { backupDir, label, outcome: "running", problems: [] };
  }
  const committed = entries.some((e) => e.op === "commit");
  const forward = entries.find((e) => e.op === "forward");
  const outcomeIfDone = committed || forward ? "finished" : "reverted";
  if (dryRun) return { backupDir, label, outcome: outcomeIfDone, problems: [] };
  let problems: string[];
  if (committed) problems = finishEntries(entries, backupDir);
  else if (forward?.op === "forward") {
    problems = await rollForward(forward.kind, forward.plan, entries, backupDir, log);
  } else {
    await stopHelpers(entries);
    problems = undoEntries(entries, false);
  }
  if (problems.length === 0) {
    try {
      Deno.removeSync(backupDir, { recursive: true });
      if (outcomeIfDone === "reverted") undoEntries(entries.filter((e) => e.op === "mkdir"), false);
    } catch (e) {
      problems.push(`removing ${backupDir}: ${(e as Error).message}`);
    }
  }
  const outcome = problems.length ? "failed" : outcomeIfDone;
  if (outcome === "failed") {
    log.warn(`could not recover the interrupted change '${label}' (${backupDir}): ${problems.join("; ")}`);
  } else {
    log.info(`${outcome === "reverted" ? "undid" : "finished"} the interrupted change '${label}'`);
  }
  return { backupDir, label, outcome, problems };
}

/** Finishes a change killed past its point of no return. */
async function rollForward(
  kind: string,
  plan: unknown,
  entries: readonly Entry[],
  backupDir: string,
  log: Logger,
): Promise<string[]> {
  await stopHelpers(entries);
  const finish = await finisherOf(kind);
  if (!finish) return [`this version of vmtools cannot finish a change of kind '${kind}'`];
  try {
    await finish(plan, log);
  } catch (e) {
    return [`finishing it: ${(e as Error).message}`];
  }
  return finishEntries(entries, backupDir);
}

/** The journal a pointer directory names, or `undefined` when `backupDir` holds a journal itself. */
function pointerTarget(backupDir: string): string | undefined {
  try {
    return Deno.readTextFileSync(`${backupDir}/${POINTER_FILE}`).trim() || undefined;
  } catch {
    // A pointer killed before its file was in place names nothing.
    return exists(`${backupDir}/${POINTER_FILE}.tmp`) ? "" : undefined;
  }
}

/** Whether the process that began a journal at `time` still runs (a reused pid started later). */
async function ownerLives(pid: number, time: number): Promise<boolean> {
  const proc = (await processStarts([pid])).get(pid);
  return proc !== undefined && proc.started <= time + 1000;
}

/** Stops helper programs a dead change started, if they are still the same processes. */
async function stopHelpers(entries: readonly Entry[]): Promise<void> {
  const procs = entries.filter((e) => e.op === "proc");
  const live = await processStarts(procs.map((p) => p.pid));
  for (const p of procs) {
    const seen = live.get(p.pid);
    if (seen && p.program.startsWith(seen.program) && sameStart(seen.started, p.time)) {
      await run("kill", ["-KILL", String(p.pid)]);
    }
  }
}
