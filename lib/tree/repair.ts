/**
 * Detecting and repairing what crashes and plain file commands leave
 * (vmfix): changes killed half-way (`b`), runtime files of VMs that no
 * longer run and ISO images of directories left behind (`d`), lock files
 * nobody holds (`l`), parent and children links that disagree (`p`), and
 * storage and backing-file paths that point where nothing is since a VM
 * was moved (`s`). Where VMs were moved or copied with `mv` or `cp -r`,
 * their old places are worked out from the links that still reach them,
 * and every link is re-pointed. Each repair is a journaled change.
 * @module
 */
import { withChange } from "../change/change.ts";
import { recoverChanges } from "../change/recover.ts";
import { isVmHome, lockHomes, VmHome } from "../home/home.ts";
import { isLocked, tryLock } from "../home/lock.ts";
import { removeQuietly } from "../remove.ts";
import { leftovers } from "../home/leftovers.ts";
import { resolve } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import type { Settings } from "../settings/settings.ts";
import type { Toolbox } from "../toolbox.ts";
import { Moves, relinkVm } from "./relink.ts";
import { directoriesBelow } from "./scan.ts";
import { exists } from "../fs.ts";

/** The checks, by their vmfix letters. */
export type Check = "b" | "d" | "l" | "p" | "s";

/** One thing found wrong, and whether it was put right. */
export interface Finding {
  /** The home or directory concerned. */
  where: string;
  /** What is wrong, or the fix made, in a few words (`stale lock /x/vm/.lock`). */
  what: string;
  /** Put right (always false on a dry run). */
  fixed: boolean;
}

/** What to look at and how. */
export interface RepairOptions {
  /** The checks to run, by their vmfix letters (`-a` is `b` `l` `p` `s`, `-A` adds `d`). */
  checks: ReadonlySet<Check>;
  /** `-r`: every directory below those given too. */
  recursive: boolean;
  /** Report only (`-n`). */
  dryRun: boolean;
}

/** Checks (and unless a dry run, repairs) the directories `dirs`. */
export async function repair(
  dirs: readonly string[],
  opts: RepairOptions,
  tool: Settings,
  tools: Toolbox,
): Promise<Finding[]> {
  const found: Finding[] = [];
  const limit = tool.int("cfg_limit_nesting");
  const all = [...new Set(dirs.flatMap((d) => directoriesBelow(d, tool, opts.recursive, limit)))];
  if (opts.checks.has("b")) {
    for (const dir of all) {
      for (const r of await recoverChanges(dir, tool.get("cfg_file_tmpdir"), tools.log, opts.dryRun)) {
        if (r.outcome === "running") continue;
        const done = r.outcome === "reverted" ? "undone" : r.outcome === "stale" ? "removed" : "finished";
        const what = r.outcome === "failed"
          ? `interrupted change '${r.label}' could not be recovered: ${r.problems.join("; ")}`
          : r.outcome === "stale"
          ? `leftover ${r.label} ${opts.dryRun ? "to be removed" : "removed"} (${r.backupDir})`
          : `interrupted change '${r.label}' ${opts.dryRun ? `to be ${done}` : done} (${r.backupDir})`;
        found.push({ where: dir, what, fixed: !opts.dryRun && r.outcome !== "failed" });
      }
    }
  }
  const homes = all.filter((d) => isVmHome(d, tool.get("cfg_file_vmsettings"))).map((d) =>
    new VmHome(d, tool)
  );
  if (opts.checks.has("l")) found.push(...staleLocks(all, tool, opts.dryRun));
  if (opts.checks.has("d")) found.push(...await workFiles(homes, opts.dryRun));
  if (opts.checks.has("p") || opts.checks.has("s")) {
    // The journal of the repairs goes in the first directory checked.
    found.push(...await links(homes, resolve(dirs[0]), opts, tool, tools));
  }
  return found;
}

/** Lock files nobody holds (a lock is an flock: a killed holder's file stays, unlocked). */
function staleLocks(dirs: readonly string[], tool: Settings, dryRun: boolean): Finding[] {
  const out: Finding[] = [];
  for (const dir of dirs) {
    const path = `${dir}/${tool.get("cfg_file_lock")}`;
    let symlink: boolean;
    try {
      symlink = Deno.lstatSync(path).isSymlink;
    } catch {
      continue;
    }
    if (dryRun ? !symlink && isLocked(path) : !clearLock(path)) continue;
    out.push({ where: dir, what: `stale lock ${path}`, fixed: !dryRun });
  }
  return out;
}

/** Removes the lock file at `path` when nobody holds it (taking it first); whether it did. */
function clearLock(path: string): boolean {
  const lock = tryLock(path);
  lock?.release();
  return lock !== undefined;
}

/**
 * Pid files, sockets and records of VMs that no longer run, and the files a
 * killed command left (directory ISOs, half-written files; whether or not
 * the VM runs: QEMU holds its own open; not while a command holds the
 * home's lock).
 */
async function workFiles(homes: readonly VmHome[], dryRun: boolean): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const home of homes) {
    const lockPath = `${home.path}/${home.tool.get("cfg_file_lock")}`;
    if (!leftovers(home.path).length) continue;
    // Looked at and removed holding the home's lock: a command taking it in between writes such files.
    const lock = dryRun ? undefined : tryLock(lockPath);
    if (dryRun ? isLocked(lockPath) : !lock) continue;
    const left = leftovers(home.path);
    if (!dryRun) left.forEach((f) => removeQuietly(f));
    lock?.release();
    if (!left.length) continue;
    out.push({
      where: home.path,
      what: `files left by a command that was cut short: ${left.join(", ")}`,
      fixed: !dryRun,
    });
  }
  for (const home of homes) {
    const f = home.files;
    if (![f.pid, f.monitor, f.serial, f.record].some(exists)) continue;
    // A VM that vmup is starting is running once vmup lets go of the lock.
    const lock = dryRun ? undefined : tryLock(`${home.path}/${home.tool.get("cfg_file_lock")}`);
    if (!dryRun && !lock) continue;
    try {
      const present = [f.pid, f.monitor, f.serial, f.record].filter(exists);
      if (!present.length || await runningFrom(f, home.tool.get("cfg_qemu_cmdprefix"))) continue;
      if (!dryRun) present.forEach((p) => removeQuietly(p));
      out.push({
        where: home.path,
        what: `work files of a VM that is not running: ${present.join(", ")}`,
        fixed: !dryRun,
      });
    } finally {
      lock?.release();
    }
  }
  return out;
}

/**
 * Parent and children links (`p`), storage and backing paths (`s`). Homes
 * that moved are found by the links that name their old places: a parent
 * listing a child that is gone, from where a moved VM's relative parent line
 * leads back to that parent; a child whose parent line names a place that is
 * gone, listed by a parent that is now elsewhere.
 */
async function links(
  homes: readonly VmHome[],
  journalDir: string,
  opts: RepairOptions,
  tool: Settings,
  tools: Toolbox,
): Promise<Finding[]> {
  const out: Finding[] = [];
  const byPath = new Map(homes.map((h) => [h.path, h]));
  const isHome = (p: string) => byPath.has(p) || isVmHome(p, tool.get("cfg_file_vmsettings"));
  const pairs: [string, string][] = [];
  for (const v of homes) {
    const link = v.parentLink();
    if (link === undefined || isHome(resolve(link, v.path))) continue;
    for (const p of homes) {
      for (const entry of p.childLinks()) {
        const old = resolve(entry, p.path);
        if (!isHome(old) && resolve(link, old) === p.path) pairs.push([old, v.path]);
      }
    }
  }
  for (const p of homes) {
    for (const child of p.children()) {
      const c = byPath.get(child) ?? (isHome(child) ? new VmHome(child, tool) : undefined);
      const link = c?.parentLink();
      if (c && link !== undefined && !isHome(resolve(link, c.path))) {
        pairs.push([resolve(link, c.path), p.path]);
      }
    }
  }
  // A parent listing one child that is gone, and not listing one that names
  // it as parent: that child moved (an absolute parent line still reached
  // the parent, so the rules above could not tell). Several: by name.
  for (const p of homes) {
    const gone = p.children().filter((c) => !isHome(c) && !pairs.some(([from]) => from === c));
    if (!gone.length) continue;
    const listed = new Set(p.children());
    const claimants = homes.filter((h) => !listed.has(h.path) && h.parent() === p.path);
    for (const c of claimants) {
      const match = gone.length === 1 && claimants.length === 1
        ? gone[0]
        : gone.find((g) => g.slice(g.lastIndexOf("/")) === c.path.slice(c.path.lastIndexOf("/")));
      if (match) pairs.push([match, c.path]);
    }
  }
  const moves = new Moves(pairs);
  for (const [from, to] of pairs) {
    out.push({ where: to, what: `moved from ${from} (found by its links)`, fixed: !opts.dryRun });
  }
  // Every home whose links may name a moved place: those found, and those their links reach.
  const touched = new Map(byPath);
  for (const h of homes) {
    for (const p of [h.parent(), ...h.children()].filter((x): x is string => x !== undefined)) {
      const now = moves.map(p);
      if (!touched.has(now) && isHome(now)) touched.set(now, new VmHome(now, tool));
    }
  }
  // First what is wrong, changing nothing: on a dry run the moves found
  // are not applied, so the children lists are checked through them.
  const relinked = new Set<VmHome>();
  for (const home of touched.values()) {
    const { fixes } = await relinkVm(undefined, home, moves, tools.log, opts.checks);
    if (fixes.length) relinked.add(home);
    for (const f of fixes) out.push({ where: home.path, what: f, fixed: !opts.dryRun });
  }
  const parents = new Map<string, string | undefined>();
  const lists = new Map<VmHome, string[]>();
  if (opts.checks.has("p")) {
    for (const home of touched.values()) {
      const { findings, children } = agree(home, touched, parents, moves, tool);
      out.push(...findings.map((f) => ({ ...f, fixed: f.fixed && !opts.dryRun })));
      if (children) lists.set(home, children);
    }
  }
  if (opts.dryRun || (!relinked.size && !lists.size)) return out;

  // Then every repair in one change: killed half-way, it is undone whole.
  const lock = await lockHomes([...new Set([...relinked, ...lists.keys()])]);
  try {
    await withChange(
      journalDir,
      { pattern: tool.get("cfg_file_tmpdir"), label: "vmfix", log: tools.log },
      async (change) => {
        for (const home of relinked) await relinkVm(change, home, moves, tools.log, opts.checks);
        // Children lists agreed against the parent lines as they are now.
        const now = new Moves([]), nowParents = new Map<string, string | undefined>();
        for (const home of lists.keys()) {
          const { children } = agree(home, touched, nowParents, now, tool);
          if (children) home.setChildren(change, children);
        }
      },
    );
  } finally {
    lock.release();
  }
  return out;
}

/**
 * Checks `parent`'s children list against its children's parent lines
 * (through `moves`, where VMs are now); returns what disagrees and, when
 * the list must change, the list it should be.
 */
function agree(
  parent: VmHome,
  known: Map<string, VmHome>,
  parents: Map<string, string | undefined>,
  moves: Moves,
  tool: Settings,
): { findings: Finding[]; children?: string[] } {
  const findings: Finding[] = [];
  const name = tool.get("cfg_file_vmsettings");
  // Each home's parent line is read once for all the parents checked.
  const parentOf = (h: VmHome) => {
    if (!parents.has(h.path)) {
      const link = h.parentLink();
      parents.set(h.path, link === undefined ? undefined : moves.map(resolve(link, moves.unmap(h.path))));
    }
    return parents.get(h.path);
  };
  const listed = parent.childLinks().map((l) => moves.map(resolve(l, moves.unmap(parent.path))));
  const keep = listed.filter((c) => {
    if (!isVmHome(c, name)) {
      findings.push({ where: parent.path, what: `lists ${c}, which is gone`, fixed: true });
      return false;
    }
    const theirs = parentOf(known.get(c) ?? new VmHome(c, tool));
    if (theirs !== parent.path) {
      findings.push({
        where: parent.path,
        what: `lists ${c}, whose parent is ${theirs ?? "none"}`,
        fixed: true,
      });
      return false;
    }
    return true;
  });
  const claimants = [...known.values()].filter((h) => parentOf(h) === parent.path && !keep.includes(h.path));
  for (const c of claimants) {
    findings.push({ where: parent.path, what: `does not list its child ${c.path}`, fixed: true });
  }
  // A parent line naming something that holds no VM, and no parent found for it.
  const link = parent.parentLink();
  const theirParent = parentOf(parent);
  if (link !== undefined && theirParent !== undefined && !isVmHome(theirParent, name)) {
    findings.push({
      where: parent.path,
      what: `its parent ${link} is gone (not found among the directories checked)`,
      fixed: false,
    });
  }
  const changed = keep.length !== listed.length || claimants.length > 0;
  return { findings, children: changed ? [...keep, ...claimants.map((c) => c.path)] : undefined };
}
