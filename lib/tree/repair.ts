/**
 * Detecting and repairing what crashes and plain file commands leave
 * (vmfix): changes killed half-way (`b`), runtime files of VMs that no
 * longer run (`d`), lock files nobody holds (`l`), parent and children
 * links that disagree (`p`), and storage and backing-file paths that point
 * where nothing is since a VM was moved (`s`). Where VMs were moved or
 * copied with `mv` or `cp -r`, their old places are worked out from the
 * links that still reach them, and every link is re-pointed. Each repair
 * is a journaled change.
 * @module
 */
import { withChange } from "../change/change.ts";
import { recoverChanges } from "../change/recover.ts";
import { isVmHome, VmHome } from "../home/home.ts";
import { isLocked } from "../home/lock.ts";
import { resolve } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import type { Settings } from "../settings/settings.ts";
import type { Toolbox } from "../toolbox.ts";
import { Moves, relinkVm } from "./relink.ts";
import { directoriesBelow } from "./scan.ts";

/** The checks, by their vmfix letters. */
export type Check = "b" | "d" | "l" | "p" | "s";

/** One thing found wrong, and whether it was put right. */
export interface Finding {
  /** The home or directory concerned. */
  where: string;
  what: string;
  /** Put right (always false on a dry run). */
  fixed: boolean;
}

/** What to look at and how. */
export interface RepairOptions {
  checks: ReadonlySet<Check>;
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
    found.push(...await links(homes, opts, tool, tools));
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
    if (!symlink && isLocked(path)) continue;
    if (!dryRun) {
      try {
        Deno.removeSync(path);
      } catch { /* taken meanwhile, or gone */ }
    }
    out.push({ where: dir, what: `stale lock ${path}`, fixed: !dryRun });
  }
  return out;
}

/** Pid files, sockets and records of VMs that no longer run. */
async function workFiles(homes: readonly VmHome[], dryRun: boolean): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const home of homes) {
    const f = home.files;
    const present = [f.pid, f.monitor, f.serial, f.record].filter(exists);
    if (!present.length || await runningFrom(f, home.tool.get("cfg_qemu_cmdprefix"))) continue;
    if (!dryRun) {
      for (const p of present) {
        try {
          Deno.removeSync(p);
        } catch { /* gone */ }
      }
    }
    out.push({
      where: home.path,
      what: `work files of a VM that is not running: ${present.join(", ")}`,
      fixed: !dryRun,
    });
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
  for (const home of touched.values()) {
    const { fixes } = await relinkVm(undefined, home, moves, tools.log, opts.checks);
    if (fixes.length && !opts.dryRun) {
      await withChange(
        home.path,
        { pattern: tool.get("cfg_file_tmpdir"), label: `vmfix ${home.path}`, log: tools.log },
        (change) => relinkVm(change, home, moves, tools.log, opts.checks),
      );
    }
    for (const f of fixes) out.push({ where: home.path, what: f, fixed: !opts.dryRun });
  }
  // Children lists against parent lines, both ways, once the moves are followed.
  for (const home of touched.values()) out.push(...await agree(home, touched, moves, opts, tool, tools));
  return out;
}

/** Makes `parent`'s children list agree with its children's parent lines. */
async function agree(
  parent: VmHome,
  known: Map<string, VmHome>,
  moves: Moves,
  opts: RepairOptions,
  tool: Settings,
  tools: Toolbox,
): Promise<Finding[]> {
  if (!opts.checks.has("p")) return [];
  const out: Finding[] = [];
  const name = tool.get("cfg_file_vmsettings");
  // On a dry run the moves found are not applied yet: look through them.
  const parentOf = (h: VmHome) => {
    const link = h.parentLink();
    return link === undefined ? undefined : moves.map(resolve(link, moves.unmap(h.path)));
  };
  const listed = parent.childLinks().map((l) => moves.map(resolve(l, moves.unmap(parent.path))));
  const keep = listed.filter((c) => {
    if (!isVmHome(c, name)) {
      out.push({ where: parent.path, what: `lists ${c}, which is gone`, fixed: !opts.dryRun });
      return false;
    }
    const theirs = parentOf(new VmHome(c, tool));
    if (theirs !== parent.path) {
      out.push({
        where: parent.path,
        what: `lists ${c}, whose parent is ${theirs ?? "none"}`,
        fixed: !opts.dryRun,
      });
      return false;
    }
    return true;
  });
  const claimants = [...known.values()].filter((h) => parentOf(h) === parent.path && !keep.includes(h.path));
  for (const c of claimants) {
    out.push({ where: parent.path, what: `does not list its child ${c.path}`, fixed: !opts.dryRun });
  }
  if ((keep.length !== listed.length || claimants.length) && !opts.dryRun) {
    await withChange(
      parent.path,
      { pattern: tool.get("cfg_file_tmpdir"), label: `vmfix ${parent.path}`, log: tools.log },
      (change) => {
        parent.setChildren(change, [...keep, ...claimants.map((c) => c.path)]);
        return Promise.resolve();
      },
    );
  }
  // A parent line naming something that holds no VM, and no parent found for it.
  const link = parent.parentLink();
  const theirParent = parentOf(parent);
  if (link !== undefined && theirParent !== undefined && !isVmHome(theirParent, name)) {
    out.push({
      where: parent.path,
      what: `its parent ${link} is gone (not found among the directories checked)`,
      fixed: false,
    });
  }
  return out;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
