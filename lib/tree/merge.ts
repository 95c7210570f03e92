/**
 * Merging a VM with its parent (vmmerge).
 *
 * Into the parent (`-p`): the child's overlays are committed into the
 * parent's disks, the parent's settings become what the child's were, the
 * child's children become the parent's (their directories move up where
 * they lived in the child's), and the child goes. The commit changes the
 * parent's disks in place: from there on the merge cannot be undone, so
 * its journal says so (`forward`) and a merge killed later is finished,
 * not undone, by the next command on the parent or by `vmfix -b`. In safe
 * mode (`-s`) the commit goes into copies of the parent's disks, swapped in
 * at the end: until then everything can be undone.
 *
 * Into the children (`-c`): each child's overlays are rebased onto the
 * grandparent's disks (or made standalone), which only adds to them what
 * they read from the parent — what they show does not change, so a kill at
 * any moment leaves them right; each child gets the settings it inherited
 * from the parent written into its own file and takes the parent's place,
 * and the parent goes. Every step can be undone.
 * @module
 */
import { type Change, withChange } from "../change/change.ts";
import { backupDirPattern } from "../change/journal.ts";
import { VmError } from "../errors.ts";
import { lockForChange } from "../home/claim.ts";
import { VmHome } from "../home/home.ts";
import { backingLink, linkPath } from "../home/links.ts";
import { basename, dirname, isWithin, resolve } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import {
  addTemplates,
  assignments,
  formatSettings,
  readSettingsFile,
  setParent,
  type SettingsFile,
  setValue,
  templatesOf,
  writeFileAtomic,
} from "../settings/file.ts";
import { detectFormat, inspectStorage, splitPrefix } from "../storage/inspect.ts";
import { convertImage, imageInfo, setBacking } from "../storage/qemuimg.ts";
import { run, spawn } from "../spawn.ts";
import type { Toolbox } from "../toolbox.ts";
import type { Logger } from "../ui/log.ts";
import { Progress, withProgress } from "../ui/progress.ts";
import { copyWithProgress } from "../storage/copy.ts";
import { isBackend } from "./new_settings.ts";
import { Moves, relinkVm } from "./relink.ts";
import { exists } from "../fs.ts";
import { removeQuietly } from "../remove.ts";

/** Everything a merge into the parent does after its point of no return, so that it can be done again. */
export interface MergePlan {
  /** The parent's home: what remains. */
  parent: string;
  /** The child's home: what goes. */
  child: string;
  /** Overlays to commit into their backing images (`[overlay, base]`; none in safe mode). */
  commits: [string, string][];
  /** Merged copies to put in place (`[copy, image]`, safe mode). */
  swaps: [string, string][];
  /** The parent's settings file as it will be. */
  settingsText: string;
  /** Grandchildren: `[old home, new home]` (the same when it does not move). */
  children: [string, string][];
  /** The child's own files to delete. */
  garbage: string[];
  /** `cfg_*` names of the files (settings, children list, lock, tmpdir pattern). */
  names: { settings: string; childs: string; lock: string; tmpdir: string };
}

/** How to merge. */
export interface MergeOptions {
  /** Into the children (`-c`) rather than the parent (`-p`). */
  intoChildren: boolean;
  /** Work on copies (`-s`). */
  safe: boolean;
}

/** Merges the VM at `home` as `opts` says; returns the homes that remain. */
export async function mergeVm(home: VmHome, opts: MergeOptions, tools: Toolbox): Promise<string[]> {
  return opts.intoChildren
    ? await mergeIntoChildren(home, opts, tools)
    : [await mergeIntoParent(home, opts, tools)];
}

// ------------------------------------------------------------------ -p

async function mergeIntoParent(child: VmHome, opts: MergeOptions, tools: Toolbox): Promise<string> {
  const tool = child.tool;
  const { parent, grandchildren } = intoParentHomes(child);
  const homes = (p: ReturnType<typeof intoParentHomes>) => [p.parent, child, ...p.grandchildren];
  const claim = await lockForChange(
    homes({ parent, grandchildren }),
    tools.log,
    () => homes(intoParentHomes(child)),
  );
  try {
    for (const h of [parent, child, ...grandchildren]) await refuseRunning(h);
    await withChange(
      parent.path,
      {
        pattern: tool.get("cfg_file_tmpdir"),
        label: `vmmerge ${child.path} into ${parent.path}`,
        log: tools.log,
      },
      async (change) => {
        // Pointers to the journal in the homes that stay where they are
        // (the child goes as a whole; grandchildren may move).
        change.pointHere(child.path);
        for (const g of grandchildren) if (dirname(g.path) !== child.path) change.pointHere(g.path);
        const plan = await planIntoParent(change, parent, child, grandchildren, opts, tools);
        change.forward("merge", plan);
        await finishMerge(plan, tools.log, () => change.checkpoint());
      },
    );
    tools.log.info(`merged ${child.path} into ${parent.path}`);
    return parent.path;
  } finally {
    claim.release(true);
  }
}

/** The homes merging `child` into its parent involves; refused when the parent has other children. */
function intoParentHomes(child: VmHome): { parent: VmHome; grandchildren: VmHome[] } {
  const tool = child.tool;
  const parentPath = child.parent();
  if (parentPath === undefined) {
    throw new VmError(`${child.path}: has no parent to merge into (vmmerge -c merges into children)`);
  }
  const parent = VmHome.open(parentPath, tool);
  const siblings = parent.children().filter((c) => c !== child.path);
  if (siblings.length) {
    throw new VmError(
      `${parent.path}: has other children (${siblings.join(", ")}) whose disks build on its own: ` +
        `merging ${child.name} into it would change what they see`,
    );
  }
  const grandchildren = child.children().map((c) =>
    VmHome.open(c, tool, `${c} (listed by ${child.childsPath})`)
  );
  return { parent, grandchildren };
}

/** Works out the merge, and in safe mode prepares the merged copies (undone if anything fails). */
async function planIntoParent(
  change: Change,
  parent: VmHome,
  child: VmHome,
  grandchildren: VmHome[],
  opts: MergeOptions,
  tools: Toolbox,
): Promise<MergePlan> {
  const commits: [string, string][] = [];
  const childFile = child.readFile();
  const merged = await overlayPairs(child, parent, childFile);
  for (const [overlay, base] of merged) {
    if (!opts.safe) {
      commits.push([overlay, base]);
      continue;
    }
    // Safe: the child's overlay copied onto a copy of the parent's image, committed there.
    const copy = `${base}.merge-${Deno.pid}`;
    await convertImage(change, base, copy, tools.log, {
      to: formatOf(base),
      label: `copying ${basename(base)}`,
    });
    const top = `${overlay}.merge-${Deno.pid}`;
    change.create(top);
    await copyWithProgress(overlay, top, tools.log);
    await setBacking(change, top, copy, formatOf(copy), tools.log);
    await commitImage(top, tools.log);
  }
  const swaps: [string, string][] = opts.safe
    ? merged.map(([, base]) => [`${base}.merge-${Deno.pid}`, base])
    : [];
  // The grandchildren that lived in the child's directory move up into the parent's.
  const children: [string, string][] = grandchildren.map((g) => {
    const to = isWithin(child.path, g.path) && dirname(g.path) === child.path
      ? `${parent.path}/${g.name}`
      : g.path;
    if (to !== g.path && exists(to)) throw new VmError(`${to}: already exists; ${g.name} cannot move there`);
    return [g.path, to];
  });
  const garbage = [
    child.settingsPath,
    child.childsPath,
    ...merged.map(([overlay]) => overlay),
    ...merged.map(([overlay]) => `${overlay}.merge-${Deno.pid}`),
    ...Object.values(child.files),
  ].filter((p) => p !== child.path);
  return {
    parent: parent.path,
    child: child.path,
    commits,
    swaps,
    settingsText: formatSettings(mergedSettings(parent, child, childFile, merged)),
    children,
    garbage,
    names: {
      settings: parent.tool.get("cfg_file_vmsettings"),
      childs: parent.tool.get("cfg_file_childs"),
      lock: parent.tool.get("cfg_file_lock"),
      tmpdir: parent.tool.get("cfg_file_tmpdir"),
    },
  };
}

/**
 * The child's disks as `[overlay, parent's image]` pairs: every enabled
 * disk of the child must be an overlay on an image of its parent.
 */
async function overlayPairs(child: VmHome, parent: VmHome, file: SettingsFile): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const [name, value] of assignments(file)) {
    const slot = /^vm_storage_(hdd\d+)_backend$/.exec(name)?.[1];
    if (!slot) continue;
    const loc = inspectStorage(value, child.path).location;
    if (loc.kind !== "file") throw new VmError(`${child.path}: ${slot} (${value}) is not an image file`);
    const info = await imageInfo(loc.path).catch((e) => {
      throw new VmError(`${loc.path}: ${(e as Error).message}`);
    });
    const base = info.backingFilename === null ? undefined : resolve(info.backingFilename, dirname(loc.path));
    if (!base || !isWithin(parent.path, base)) {
      throw new VmError(
        `${child.path}: ${slot} (${value}) is not an overlay on a disk of ${parent.path}; ` +
          `only overlays merge (copy it with vmcp -a instead)`,
      );
    }
    out.push([loc.path, base]);
  }
  return out;
}

/** The parent's settings file as the merged VM's: what the child showed, on the parent's disks. */
function mergedSettings(
  parent: VmHome,
  child: VmHome,
  childFile: SettingsFile,
  merged: [string, string][],
): SettingsFile {
  const file = parent.readFile();
  addTemplates(file, templatesOf(childFile));
  const overlays = new Set(merged.map(([o]) => o));
  for (const [name, value] of assignments(childFile)) {
    if (isBackend(name)) {
      const [prefix, location] = splitPrefix(value);
      const abs = resolve(location, child.path);
      if (overlays.has(abs)) continue; // the parent's own image holds it now
      if (location && !location.startsWith("/") && !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
        setValue(file, name, (prefix ? `${prefix}:` : "") + linkPath(parent.path, abs));
        continue;
      }
    }
    setValue(file, name, value);
  }
  return file;
}

/**
 * Does (or finishes) a merge into the parent from its plan. Every step may
 * run again: a commit of an overlay already committed adds nothing, a swap
 * already made is skipped, files are written as the plan says, and what is
 * already gone stays gone.
 */
export async function finishMerge(planIn: unknown, log: Logger, checkpoint = () => {}): Promise<void> {
  const plan = planIn as MergePlan;
  for (const [overlay, base] of plan.commits) {
    checkpoint();
    if (exists(overlay) && exists(base)) await commitImage(overlay, log);
  }
  for (const [copy, image] of plan.swaps) {
    checkpoint();
    if (exists(copy)) Deno.renameSync(copy, image);
  }
  checkpoint();
  writeFileAtomic(`${plan.parent}/${plan.names.settings}`, plan.settingsText);
  for (const [from, to] of plan.children) {
    checkpoint();
    if (from !== to && exists(from) && !exists(to)) Deno.renameSync(from, to);
  }
  // The grandchildren now hang on the parent: parent lines, backing files, the list.
  const moves = new Moves([[plan.child, plan.parent], ...plan.children.filter(([a, b]) => a !== b)]);
  for (const [, home] of plan.children) {
    checkpoint();
    const path = `${home}/${plan.names.settings}`;
    if (!exists(path)) continue;
    const file = readSettingsFile(path, "vm");
    setParent(file, linkPath(home, plan.parent));
    writeFileAtomic(path, formatSettings(file));
    for (const image of ownImages(file, home)) {
      const info = await imageInfo(image).catch(() => undefined);
      if (!info?.backingFilename) continue;
      const target = moves.map(resolve(info.backingFilename, dirname(moves.unmap(image))));
      const link = backingLink(home, plan.parent, target);
      if (info.backingFilename === link) continue;
      const r = await run("qemu-img", [
        "rebase",
        "-u",
        "-b",
        link,
        "-F",
        info.backingFormat ?? "qcow2",
        image,
      ]);
      if (r.code !== 0) throw new VmError(`${image}: cannot re-point its backing file: ${r.stderr.trim()}`);
    }
  }
  checkpoint();
  const childsFile = `${plan.parent}/${plan.names.childs}`;
  const links = plan.children.map(([, to]) => linkPath(plan.parent, to));
  if (links.length) writeFileAtomic(childsFile, links.join("\n") + "\n");
  else removeQuietly(childsFile, true);
  checkpoint();
  for (const f of plan.garbage) removeQuietly(f, true);
  // The child's home goes once nothing else of it is left (its lock file aside).
  try {
    const ours = backupDirPattern(plan.names.tmpdir);
    const left = [...Deno.readDirSync(plan.child)].map((e) => e.name)
      .filter((n) => n !== plan.names.lock && !ours.test(n));
    if (left.length === 0) Deno.removeSync(plan.child, { recursive: true });
    else log.warn(`${plan.child}: kept (it still holds ${left.map((n) => `'${n}'`).join(", ")})`);
  } catch { /* already gone */ }
}

/** The disk images a settings file names by path (its own, not inherited). */
function ownImages(file: SettingsFile, home: string): string[] {
  return assignments(file)
    .filter(([name]) => /^vm_storage_hdd\d+_backend$/.test(name))
    .map(([, value]) => splitPrefix(value)[1])
    .filter((loc) => loc !== "" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(loc))
    .map((loc) => resolve(loc, home));
}

// ------------------------------------------------------------------ -c

async function mergeIntoChildren(parent: VmHome, opts: MergeOptions, tools: Toolbox): Promise<string[]> {
  const tool = parent.tool;
  const { children, grandparent } = intoChildrenHomes(parent);
  const gpPath = grandparent?.path;
  const homes = (p: ReturnType<typeof intoChildrenHomes>) =>
    p.grandparent ? [parent, ...p.children, p.grandparent] : [parent, ...p.children];
  const claim = await lockForChange(
    homes({ children, grandparent }),
    tools.log,
    () => homes(intoChildrenHomes(parent)),
  );
  try {
    for (const h of [parent, ...children]) await refuseRunning(h);
    const parentFile = parent.readFile();
    // Where each child goes: up into the grandparent's place when it lived in the parent's directory.
    const places = children.map((c): [VmHome, string] => {
      const to = dirname(c.path) === parent.path ? `${dirname(parent.path)}/${c.name}` : c.path;
      if (to !== c.path && exists(to)) {
        throw new VmError(`${to}: already exists; ${c.name} cannot move there`);
      }
      return [c, to];
    });
    await withChange(
      dirname(parent.path),
      { pattern: tool.get("cfg_file_tmpdir"), label: `vmmerge -c ${parent.path}`, log: tools.log },
      async (change) => {
        for (const [c, to] of places) if (c.path === to) change.pointHere(c.path);
        if (grandparent) change.pointHere(grandparent.path);
        for (const [c] of places) {
          await rebaseChild(change, c, parent, opts.safe || children.length > 1, tools);
        }
        for (const [c] of places) inheritInto(change, c, parent, parentFile, gpPath);
        // Move the children up, then re-point what crosses the moved directories.
        const moves = new Moves(places.filter(([c, to]) => c.path !== to).map(([c, to]) => [c.path, to]));
        for (const [c, to] of places) if (c.path !== to) change.rename(c.path, to);
        for (const [, to] of places) {
          await relinkVm(change, new VmHome(to, tool), moves, tools.log, new Set(["p", "s"]), true);
        }
        if (grandparent) {
          const others = grandparent.children().filter((x) => x !== parent.path);
          grandparent.setChildren(change, [...others, ...places.map(([, to]) => to)]);
        }
        removeParent(change, parent, tools);
      },
    );
    // The moved children's lock files (ours, still held) travelled with them.
    for (const [c, to] of places) {
      if (c.path !== to) removeQuietly(`${to}/${tool.get("cfg_file_lock")}`, true);
    }
    tools.log.info(`merged ${parent.path} into ${places.map(([, to]) => to).join(", ")}`);
    return places.map(([, to]) => to);
  } finally {
    claim.release(true);
  }
}

/**
 * Makes each of the child's overlays stand on the grandparent's image (or
 * alone) instead of the parent's: `qemu-img rebase` copies in what the
 * parent added, so what the child shows stays the same throughout.
 */
async function rebaseChild(
  change: Change,
  child: VmHome,
  parent: VmHome,
  safe: boolean,
  tools: Toolbox,
): Promise<void> {
  for (const [overlay, base] of await overlayPairs(child, parent, child.readFile())) {
    const baseInfo = await imageInfo(base);
    const newBase = baseInfo.backingFilename === null
      ? undefined
      : resolve(baseInfo.backingFilename, dirname(base));
    const target = safe ? `${overlay}.merge-${Deno.pid}` : overlay;
    if (safe) {
      change.create(target);
      await copyWithProgress(overlay, target, tools.log);
    } else {
      const info = await imageInfo(overlay);
      change.backing(overlay, info.backingFilename ?? "", info.backingFormat ?? "");
    }
    const link = newBase === undefined ? "" : newBase;
    const args = [
      "rebase",
      "-p",
      "-b",
      link,
      ...(newBase ? ["-F", baseInfo.backingFormat ?? formatOf(newBase)] : []),
      target,
    ];
    const progress = new Progress(
      tools.log,
      `merging into ${basename(overlay)}`,
      baseInfo.actualSize ?? undefined,
    );
    const proc = change.spawn("qemu-img", args, { stdin: "null", stdout: "piped", stderr: "piped" });
    const { code, stderr } = await withProgress(proc, progress);
    if (code !== 0) throw new VmError(`cannot rebase ${overlay}: ${stderr.trim().split("\n").pop()}`);
    if (safe) {
      change.trash(overlay);
      change.rename(target, overlay);
    }
  }
}

/** Writes into the child's own file what it inherited from the parent (the parent goes), and its new parent line. */
function inheritInto(
  change: Change,
  child: VmHome,
  parent: VmHome,
  parentFile: SettingsFile,
  gp: string | undefined,
): void {
  const file = child.readFile();
  const own = new Set(assignments(file).map(([n]) => n));
  for (const [name, value] of assignments(parentFile)) {
    if (own.has(name)) continue;
    if (isBackend(name)) {
      const [prefix, location] = splitPrefix(value);
      if (location && !location.startsWith("/") && !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
        setValue(file, name, (prefix ? `${prefix}:` : "") + resolve(location, parent.path));
        continue;
      }
    }
    setValue(file, name, value);
  }
  const inherited = templatesOf(parentFile);
  if (inherited.length) {
    // The parent's templates apply before the child's own: put them first.
    const mine = templatesOf(file);
    file.lines = file.lines.filter((l) => l.kind !== "template");
    addTemplates(file, [...inherited, ...mine]);
  }
  setParent(file, gp === undefined ? undefined : linkPath(child.path, gp));
  change.keep(file.path);
  writeFileAtomic(file.path, formatSettings(file));
}

/** Deletes the parent's own files and, when nothing else is left, its home. */
function removeParent(change: Change, parent: VmHome, tools: Toolbox): void {
  const f = parent.files;
  const own = [parent.settingsPath, parent.childsPath, f.pid, f.monitor, f.serial, f.serialLog, f.record];
  const images = ownImages(parent.readFile(), parent.path).filter((p) => dirname(p) === parent.path);
  for (const p of [...own, ...images]) if (exists(p)) change.trash(p);
  const ours = backupDirPattern(parent.tool.get("cfg_file_tmpdir"));
  const left = [...Deno.readDirSync(parent.path)].map((e) => e.name)
    .filter((n) => `${parent.path}/${n}` !== parent.lockPath && !ours.test(n));
  if (left.length === 0) change.trash(parent.path);
  else tools.log.warn(`${parent.path}: kept (it still holds ${left.map((n) => `'${n}'`).join(", ")})`);
}

// ------------------------------------------------------------------ helpers

async function refuseRunning(home: VmHome): Promise<void> {
  const running = await runningFrom(home.files, home.tool.get("cfg_qemu_cmdprefix"));
  if (running) throw new VmError(`${home.path}: running (pid ${running.record.pid}); stop it first (vmdown)`);
}

/** Commits an overlay into its backing image, with progress (the overlay's data is what is written). */
async function commitImage(overlay: string, log: Logger): Promise<void> {
  const progress = new Progress(log, `merging ${basename(overlay)}`, Deno.statSync(overlay).size);
  const proc = spawn("qemu-img", ["commit", "-p", overlay], {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stderr } = await withProgress(proc, progress);
  if (code !== 0) throw new VmError(`cannot commit ${overlay}: ${stderr.trim().split("\n").pop()}`);
}

function formatOf(image: string): string {
  return detectFormat(image, Deno.statSync(image).size) === "qcow2" ? "qcow2" : "raw";
}

/** The homes merging `parent` into its children involves. */
function intoChildrenHomes(parent: VmHome): { children: VmHome[]; grandparent?: VmHome } {
  const tool = parent.tool;
  const children = parent.children().map((c) =>
    VmHome.open(c, tool, `${c} (listed by ${parent.childsPath})`)
  );
  if (!children.length) {
    throw new VmError(`${parent.path}: has no children to merge into (vmmerge -p merges into the parent)`);
  }
  const gpPath = parent.parent();
  return { children, grandparent: gpPath === undefined ? undefined : VmHome.open(gpPath, tool) };
}
