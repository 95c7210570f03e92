/**
 * Deleting VMs (vmrm): a VM's own files — its settings, children list,
 * lock and runtime files, cloud-init seed, and the disk images of its that
 * lie in its home and its UEFI variable store (kept with `-k`) — then its
 * home if nothing else is left in it. With `-r` its descendants go first,
 * wherever they live. The parent's children list loses it. One change:
 * until it commits, everything is in backup directories, and an
 * interrupted delete is undone.
 * @module
 */
import { type Change, withChange } from "../change/change.ts";
import { backupDirPattern } from "../change/journal.ts";
import { VmError } from "../errors.ts";
import { lockForChange } from "../home/claim.ts";
import { VmHome } from "../home/home.ts";
import { samePlace } from "../home/links.ts";
import { familyTree, type TreeNode, walk } from "../home/tree.ts";
import { dirname } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import { resolveSettings } from "../settings/resolve.ts";
import { enabledDrives } from "../storage/drives.ts";
import { inspectStorage } from "../storage/inspect.ts";
import type { Toolbox } from "../toolbox.ts";
import { exists } from "../fs.ts";

/** How to delete. */
export interface RemoveOptions {
  /** `-r`: the VM's descendants too. */
  recursive: boolean;
  /** `-k`: only vmtools' own files; disk images and unknown files stay. */
  keepImages: boolean;
}

/** What a removal would delete, for the question before it. */
export interface RemovalPlan {
  /** The VM asked for; its parent's children list forgets it. */
  home: VmHome;
  /** The VMs to delete, descendants (deepest first) before the VM itself. */
  homes: VmHome[];
}

/** Works out what deleting `home` means; refuses a VM with children unless `recursive`. */
export function planRemoval(home: VmHome, opts: RemoveOptions): RemovalPlan {
  const children = home.children();
  if (children.length && !opts.recursive) {
    throw new VmError(
      `${home.path}: has ${children.length} child VM${children.length > 1 ? "s" : ""} built on its disks ` +
        `(${children.join(", ")}); 'vmrm -r' deletes them too`,
    );
  }
  const tree = familyTree(home, home.tool.int("cfg_limit_nesting"));
  const top = [...walk(tree)].find((n) => samePlace(n.home, home.path));
  if (!top) {
    throw new VmError(
      `${home.path}: its parent ${home.parent()} does not list it ('vmfix -p' repairs the list)`,
    );
  }
  // A listed child that is gone, or whose parent line names another VM, is
  // not ours: neither it nor anything below it (a foreign home may list anyone's VM).
  const below: TreeNode[] = [];
  const take = (n: TreeNode) => {
    for (const c of n.children) {
      if (c.problem) continue;
      below.push(c);
      take(c);
    }
  };
  take(top);
  return { home, homes: [...below.reverse().map((n) => new VmHome(n.home, home.tool)), home] };
}

/** Deletes what `plan` names, as one change; returns the homes left behind (not empty). */
export async function removeVms(plan: RemovalPlan, opts: RemoveOptions, tools: Toolbox): Promise<string[]> {
  const [parent] = parentOf(plan.home);
  const involved = (p: RemovalPlan) => [...p.homes, ...parentOf(p.home)];
  // The plan was made before the locks: a command that held them may have forked one of these VMs.
  const claim = await lockForChange(involved(plan), tools.log, () => involved(planRemoval(plan.home, opts)));
  try {
    for (const h of plan.homes) {
      const running = await runningFrom(h.files, h.tool.get("cfg_qemu_cmdprefix"));
      if (running) {
        throw new VmError(`${h.path}: running (pid ${running.record.pid}); stop it first (vmdown)`);
      }
    }
    const kept: string[] = [];
    const tool = plan.home.tool;
    await withChange(
      dirname(plan.home.path),
      { pattern: tool.get("cfg_file_tmpdir"), label: `vmrm ${plan.home.path}`, log: tools.log },
      (change) => {
        parent?.removeChild(change, plan.home.path);
        for (const h of plan.homes) {
          if (!removeOne(change, h, opts, tools)) kept.push(h.path);
        }
        return Promise.resolve();
      },
    );
    for (const h of plan.homes) tools.log.info(`deleted VM ${h.path}`);
    return kept;
  } finally {
    claim.release(true);
  }
}

/** The home of `home`'s parent, when it holds a VM (none or one). */
function parentOf(home: VmHome): VmHome[] {
  const path = home.parent();
  return path !== undefined && VmHome.isHome(path, home.tool) ? [new VmHome(path, home.tool)] : [];
}

/** Deletes one VM's files; returns whether its home went too (it was left empty). */
function removeOne(change: Change, home: VmHome, opts: RemoveOptions, tools: Toolbox): boolean {
  const files = home.files;
  const own = [
    home.settingsPath,
    home.childsPath,
    files.pid,
    files.monitor,
    files.serial,
    files.serialLog,
    files.record,
    `${files.serial}.lock`,
    `${home.path}/${home.tool.get("cfg_file_cidata")}`, // made again at each start
  ];
  // The UEFI variable store belongs with the disks: their boot entries are in it.
  const efivars = `${home.path}/${home.tool.get("cfg_file_efivars")}`;
  const images = opts.keepImages ? [] : [...imagesInside(home, tools), efivars];
  for (const path of [...own, ...images]) {
    if (exists(path)) change.trash(path);
  }
  // The lock file is in the home, and on another file system than the
  // journal the backup directory of this change: the home is empty once only they are left.
  const ours = backupDirPattern(home.tool.get("cfg_file_tmpdir"));
  const left = [...Deno.readDirSync(home.path)].map((e) => e.name).filter((n) =>
    `${home.path}/${n}` !== home.lockPath && !ours.test(n)
  );
  if (left.length) {
    tools.log.warn(`${home.path}: kept (it still holds ${left.map((n) => `'${n}'`).join(", ")})`);
    return false;
  }
  change.trash(home.path);
  return true;
}

/** The VM's disk images and ISOs that lie in its home (images elsewhere are not its own). */
function imagesInside(home: VmHome, tools: Toolbox): string[] {
  let settings;
  try {
    settings = resolveSettings({ roots: tools.roots, home: home.path }).settings;
  } catch {
    return []; // unreadable settings: its images stay, the home is then kept
  }
  const out: string[] = [];
  for (const d of enabledDrives(settings, home.path)) {
    try {
      const loc = inspectStorage(d.backend, d.base).location;
      if (loc.kind === "file" && dirname(loc.path) === home.path) out.push(loc.path);
    } catch { /* a missing image has nothing to delete */ }
  }
  return out;
}
