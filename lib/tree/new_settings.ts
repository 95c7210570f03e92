/**
 * The settings file of a VM made from another: a fork holds its `parent`
 * line and what makes it itself; a copy keeps the source's own file (its
 * comments and order too) with its links re-pointed from the new home; an
 * autonomous copy writes out everything the source inherited from its
 * parents, since it has none.
 * @module
 */
import type { VmHome } from "../home/home.ts";
import { linkPath } from "../home/links.ts";
import type { CloneMode } from "../modules/api.ts";
import { resolve } from "../path.ts";
import {
  addTemplates,
  assignments,
  setParent,
  type SettingsFile,
  setValue,
  templatesOf,
} from "../settings/file.ts";
import { newSettingsFile } from "../settings/new_file.ts";
import type { ChainLink } from "../settings/resolve.ts";
import { splitPrefix } from "../storage/inspect.ts";

/** Whether a setting holds a storage path (relative ones are taken from the home of the file that sets it). */
export function isBackend(name: string): boolean {
  return /^vm_storage_(hdd|cdrom)\d+_backend$/.test(name);
}

/**
 * The new settings file at `path` for a clone of the VM whose chain (root
 * first, the source last) is `chain`; `parent` is the new VM's parent home.
 */
export function cloneSettingsFile(
  mode: CloneMode,
  source: VmHome,
  chain: readonly ChainLink[],
  dest: string,
  parent: string | undefined,
): SettingsFile {
  const path = `${dest}/${source.tool.get("cfg_file_vmsettings")}`;
  const name = `'${source.name}': ${source.path}`;
  if (mode === "fork") {
    const file = newSettingsFile(path, `forked from ${name}`);
    setParent(file, parent === undefined ? undefined : linkPath(dest, parent));
    return file;
  }
  if (mode === "copy") {
    const own = chain[chain.length - 1].file;
    const file = newSettingsFile(path, `copied from ${name}`);
    file.lines.push(...own.lines.filter((l) => l.kind !== "parent"));
    setParent(file, parent === undefined ? undefined : linkPath(dest, parent));
    rebaseBackends(file, source.path, dest);
    return file;
  }
  // Autonomous: the chain's templates and values, root first, so that a
  // child's value beats its parent's as it did by inheritance.
  const file = newSettingsFile(path, `autonomous copy of ${name}`);
  for (const link of chain) {
    addTemplates(file, templatesOf(link.file));
    for (const [k, v] of assignments(link.file)) {
      setValue(file, k, isBackend(k) ? relink(v, link.home, dest) : v);
    }
  }
  return file;
}

/** Re-points the relative storage paths of `file` (written for `from`) from `to`. */
function rebaseBackends(file: SettingsFile, from: string, to: string): void {
  for (const [k, v] of assignments(file)) {
    if (isBackend(k)) setValue(file, k, relink(v, from, to));
  }
}

/** A storage value written in home `from`, as home `to` must write it (URLs and absolute paths stay). */
function relink(value: string, from: string, to: string): string {
  const [prefix, location] = splitPrefix(value);
  if (location === "" || location.startsWith("/") || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return value;
  return (prefix ? `${prefix}:` : "") + linkPath(to, resolve(location, from));
}
