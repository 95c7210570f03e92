/**
 * A VM home: a directory holding a settings file, and everything about it
 * that other commands need — its files (named by the `cfg_file_*` tool
 * settings), its settings file, its parent and children (the `parent` line
 * and `childs.lst`, kept true in both directions), its lock, and whether
 * its VM runs.
 *
 * Only a missing file means "absent": any other failure to read is an
 * error naming the file, so that an unreadable children list is never
 * taken for "no children" (the parent would then boot read-write).
 * @module
 */
import type { Change } from "../change/change.ts";
import { VmError } from "../errors.ts";
import type { VmFiles } from "../modules/api.ts";
import { basename, resolve } from "../path.ts";
import {
  formatSettings,
  readSettingsFile,
  setParent,
  type SettingsFile,
  writeFileAtomic,
} from "../settings/file.ts";
import type { Settings } from "../settings/settings.ts";
import { acquireLock, type Lock } from "./lock.ts";
import { vmFiles } from "./files.ts";
import { followLink, linkPath, samePlace } from "./links.ts";
import { exists, realPathOr } from "../fs.ts";

/**
 * Whether `dir` holds a VM (has a settings file). Anything but a directory
 * counts, so that a settings file that is a FIFO or a device is refused by
 * the settings reader, naming it, rather than taken for a plain directory.
 */
export function isVmHome(dir: string, settingsName = "vm.settings"): boolean {
  try {
    return !Deno.statSync(`${dir}/${settingsName}`).isDirectory;
  } catch {
    return false;
  }
}

/** A VM home, named by an absolute path. */
export class VmHome {
  /** The home's absolute path. */
  readonly path: string;

  /** `path` may be relative; `tool` (the tool settings) names the home's files. */
  constructor(path: string, readonly tool: Settings) {
    this.path = resolve(path);
  }

  /** Whether `path` holds a VM (see {@linkcode isVmHome}). */
  static isHome(path: string, tool: Settings): boolean {
    return isVmHome(resolve(path), tool.get("cfg_file_vmsettings"));
  }

  /** The home at `path`; a {@linkcode VmError} when it holds no VM. */
  static open(path: string, tool: Settings, shown = path): VmHome {
    if (!VmHome.isHome(path, tool)) {
      throw new VmError(`${shown}: not a VM home (no ${tool.get("cfg_file_vmsettings")})`);
    }
    return new VmHome(path, tool);
  }

  /** The directory's name. */
  get name(): string {
    return basename(this.path);
  }

  /** The settings file's path. */
  get settingsPath(): string {
    return `${this.path}/${this.tool.get("cfg_file_vmsettings")}`;
  }

  /** The children list's path. */
  get childsPath(): string {
    return `${this.path}/${this.tool.get("cfg_file_childs")}`;
  }

  /** The lock file's path. */
  get lockPath(): string {
    return `${this.path}/${this.tool.get("cfg_file_lock")}`;
  }

  /** The runtime files (pid, sockets, record). */
  get files(): VmFiles {
    return vmFiles(this.path, this.tool);
  }

  /** Reads the settings file. */
  readFile(): SettingsFile {
    return readSettingsFile(this.settingsPath, "vm");
  }

  /** The `parent` line as written, if any. */
  parentLink(file = this.readFile()): string | undefined {
    for (const l of file.lines) if (l.kind === "parent") return l.path;
    return undefined;
  }

  /** The parent's home (absolute), if any. */
  parent(file = this.readFile()): string | undefined {
    const link = this.parentLink(file);
    return link === undefined ? undefined : followLink(this.path, link);
  }

  /** The lines of the children list as written; none when there is no list. */
  childLinks(): string[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.childsPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw new VmError(`${this.childsPath}: cannot read: ${(e as Error).message}`);
    }
    return text.split("\n").filter((l) => l !== "");
  }

  /** The children's homes (absolute), as the list names them. */
  children(): string[] {
    return this.childLinks().map((l) => followLink(this.path, l));
  }

  /** Whether the list names at least one child. */
  hasChildren(): boolean {
    return this.childLinks().length > 0;
  }

  /** Adds `child` (a home path) to the children list, as a step of `change`. */
  addChild(change: Change, child: string): void {
    const abs = resolve(child);
    const links = this.childLinks();
    if (links.some((l) => samePlace(followLink(this.path, l), abs))) return;
    this.#writeChildren(change, [...links, linkPath(this.path, abs)]);
  }

  /** Removes `child` from the children list (the list goes when it is empty), as a step of `change`. */
  removeChild(change: Change, child: string): void {
    const abs = resolve(child);
    const links = this.childLinks();
    const kept = links.filter((l) => !samePlace(followLink(this.path, l), abs));
    if (kept.length !== links.length) this.#writeChildren(change, kept);
  }

  /** Replaces the children list (relative links where a child lies below), as a step of `change`. */
  setChildren(change: Change, children: readonly string[]): void {
    this.#writeChildren(change, children.map((c) => linkPath(this.path, resolve(c))));
  }

  #writeChildren(change: Change, links: readonly string[]): void {
    for (const l of links) {
      if (/[\n\r\0]/.test(l)) {
        throw new VmError(`${l}: a home with a line break in its path cannot be listed as a child`);
      }
    }
    const path = this.childsPath;
    if (exists(path)) change.keep(path);
    else change.create(path);
    if (links.length === 0) {
      Deno.removeSync(path);
      return;
    }
    writeFileAtomic(path, links.join("\n") + "\n");
  }

  /** Sets (or removes) the `parent` line, as a step of `change`. */
  setParent(change: Change, parent: string | undefined): void {
    const file = this.readFile();
    change.keep(this.settingsPath);
    setParent(file, parent === undefined ? undefined : linkPath(this.path, parent));
    writeFileAtomic(file.path, formatSettings(file));
  }

  /** Takes the home's lock, waiting up to `cfg_limit_waitlock` seconds. */
  lock(): Promise<Lock> {
    return acquireLock(this.lockPath, this.tool.int("cfg_limit_waitlock"));
  }
}

/**
 * Locks several homes in one global order (by real path), so that commands
 * locking overlapping sets never deadlock; returns one lock releasing all.
 */
export async function lockHomes(homes: readonly VmHome[]): Promise<Lock> {
  const byReal = new Map<string, VmHome>();
  for (const h of homes) byReal.set(realPathOr(h.path), h);
  const held: Lock[] = [];
  try {
    for (const real of [...byReal.keys()].sort()) held.push(await byReal.get(real)!.lock());
  } catch (e) {
    for (const l of held.reverse()) l.release();
    throw e;
  }
  return {
    path: held.map((l) => l.path).join(" "),
    release: () => {
      for (const l of held.reverse()) l.release();
    },
  };
}
