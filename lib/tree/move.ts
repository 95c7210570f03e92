/**
 * Moving or renaming a VM home with everything in it (vmmv), keeping every
 * link true: the links inside the moved directory are relative where one
 * VM lies below the other and need nothing; those that cross its boundary —
 * a parent's children list, the parent line of a child outside, a backing
 * file on a disk outside — are re-pointed. On one file system the move is
 * a rename; across file systems a copy, then the original is deleted. One
 * journaled change, undone when it fails or is interrupted.
 * @module
 */
import { type Change, withChange } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { lockForChange } from "../home/claim.ts";
import { VmHome } from "../home/home.ts";
import { basename, dirname, isWithin } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import type { Settings } from "../settings/settings.ts";
import type { Toolbox } from "../toolbox.ts";
import { Moves, relinkVm } from "./relink.ts";
import { homesBelowDir } from "./scan.ts";
import { exists, isDirectory } from "../fs.ts";
import { copyFile } from "../storage/copy.ts";
import type { Logger } from "../ui/log.ts";
import { Progress } from "../ui/progress.ts";

/** Moves the VM home `source` to `dest` (absolute; must not exist). */
export async function moveVm(source: VmHome, dest: string, tool: Settings, tools: Toolbox): Promise<void> {
  const from = source.path;
  if (exists(dest)) throw new VmError(`${dest}: already exists`);
  if (isWithin(from, dest)) throw new VmError(`${dest}: a VM cannot be moved into itself`);
  if (!isDirectory(dirname(dest))) throw new VmError(`${dirname(dest)}: no such directory`);
  const { inside, outside } = moveHomes(from, tool);
  const claim = await lockForChange([...inside, ...outside.values()], tools.log, () => {
    const again = moveHomes(from, tool);
    return [...again.inside, ...again.outside.values()];
  });
  try {
    for (const h of inside) {
      const running = await runningFrom(h.files, tool.get("cfg_qemu_cmdprefix"));
      if (running) {
        throw new VmError(`${h.path}: running (pid ${running.record.pid}); stop it first (vmdown)`);
      }
    }
    const moves = new Moves([[from, dest]]);
    await withChange(
      dirname(from),
      { pattern: tool.get("cfg_file_tmpdir"), label: `vmmv ${from} ${dest}`, log: tools.log },
      async (change) => {
        for (const n of outside.values()) change.pointHere(n.path);
        await relocate(change, from, dest, tools.log);
        // Links are written afresh as vmtools writes them: relative where one VM now lies below the other.
        const all = new Set(["p", "s"]);
        for (const h of inside) {
          await relinkVm(change, new VmHome(moves.map(h.path), tool), moves, tools.log, all, true);
        }
        for (const n of outside.values()) await relinkVm(change, n, moves, tools.log, all, true);
      },
    );
    // The moved homes' lock files (ours, still held) travelled with them.
    for (const h of inside) {
      try {
        Deno.removeSync(moves.map(h.lockPath));
      } catch { /* not there */ }
    }
    tools.log.info(`moved ${from} to ${dest}`);
  } finally {
    claim.release(true);
  }
}

/** The homes below `from`, and those outside whose links reach in: parents of the moved VMs, children elsewhere. */
function moveHomes(from: string, tool: Settings): { inside: VmHome[]; outside: Map<string, VmHome> } {
  const inside = homesBelowDir(from, tool, tool.int("cfg_limit_nesting")).map((h) => new VmHome(h, tool));
  const outside = new Map<string, VmHome>();
  for (const h of inside) {
    for (const n of [h.parent(), ...h.children()]) {
      if (n !== undefined && !isWithin(from, n) && VmHome.isHome(n, tool)) {
        outside.set(n, new VmHome(n, tool));
      }
    }
  }
  return { inside, outside };
}

/** A rename on one file system; a copy of the tree (with progress), then the original deleted, across them. */
async function relocate(change: Change, from: string, to: string, log: Logger): Promise<void> {
  try {
    change.rename(from, to);
    return;
  } catch (e) {
    if (!/cross-device|EXDEV/i.test((e as Error).message)) throw e;
  }
  change.create(to);
  const progress = new Progress(log, `moving ${basename(from)}`, treeBytes(from));
  let ok = false;
  try {
    await copyTree(from, to, progress);
    ok = true;
  } finally {
    progress.done(ok);
  }
  change.trash(from);
}

/** Copies a directory tree (files, directories, symbolic links), modes kept. */
async function copyTree(from: string, to: string, progress: Progress): Promise<void> {
  const info = Deno.lstatSync(from);
  if (info.isSymlink) {
    Deno.symlinkSync(Deno.readLinkSync(from), to);
  } else if (info.isDirectory) {
    Deno.mkdirSync(to, { mode: info.mode ?? 0o755 });
    for (const e of Deno.readDirSync(from)) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`, progress);
  } else if (info.isFile) {
    await copyFile(from, to, progress);
  }
  // Sockets and FIFOs (a stopped VM's leftovers) are not copied.
}

/** The bytes of the regular files below `dir`, what {@linkcode copyTree} copies. */
function treeBytes(dir: string): number {
  const info = Deno.lstatSync(dir);
  if (info.isFile) return info.size;
  if (!info.isDirectory) return 0;
  let total = 0;
  for (const e of Deno.readDirSync(dir)) total += treeBytes(`${dir}/${e.name}`);
  return total;
}
