/**
 * Keeping links true after VMs have moved (by vmmv, or by a plain `mv` or
 * `cp -r` that vmfix repairs): given where things were and where they are
 * now, every `parent` line, children list, storage path and backing file of
 * a VM that pointed at something moved is rewritten to point at its new
 * place — relative where one VM lies below the other, as vmtools writes
 * them. A link that did not move, or still reaches its target, is left as
 * written.
 * @module
 */
import type { Change } from "../change/change.ts";
import { type VmHome } from "../home/home.ts";
import { backingLink, linkPath } from "../home/links.ts";
import { dirname, isWithin, relative, resolve } from "../path.ts";
import { assignments, formatSettings, setParent, setValue, writeFileAtomic } from "../settings/file.ts";
import { splitPrefix } from "../storage/inspect.ts";
import { backingOf, setBacking } from "../storage/qemuimg.ts";
import type { Logger } from "../ui/log.ts";
import { isBackend } from "./new_settings.ts";
import { reachable } from "../fs.ts";

/** Where moved paths went: the longest moved prefix of a path decides. */
export class Moves {
  readonly #pairs: [string, string][];

  /** `pairs` are [old, new] absolute paths (directories or files). */
  constructor(pairs: Iterable<[string, string]>) {
    this.#pairs = [...pairs].map(([a, b]) => [resolve(a), resolve(b)] as [string, string])
      .sort((x, y) => y[0].length - x[0].length);
  }

  /** Where `path` is now. */
  map(path: string): string {
    for (const [from, to] of this.#pairs) if (isWithin(from, path)) return to + path.slice(from.length);
    return path;
  }

  /** Where `path` (a place now) was before. */
  unmap(path: string): string {
    const byNew = [...this.#pairs].sort((x, y) => y[1].length - x[1].length);
    for (const [from, to] of byNew) if (isWithin(to, path)) return from + path.slice(to.length);
    return path;
  }

  /** Whether anything moved. */
  get empty(): boolean {
    return this.#pairs.length === 0;
  }
}

/** What relinking one VM changed (or, on a dry run, would change). */
export interface Relinked {
  /** The VM's home (absolute, where it is now). */
  home: string;
  /** One line per link re-pointed, `what old -> new` (`parent ../a -> ../b`). */
  fixes: string[];
}

/**
 * Re-points the links of the VM at `home` (now in place; it was at
 * `moves.unmap(home.path)`) as `moves` says: with `p` its parent line and
 * children list, with `s` its storage paths and backing files. Writes
 * nothing when `change` is undefined (a dry run).
 */
export async function relinkVm(
  change: Change | undefined,
  home: VmHome,
  moves: Moves,
  log: Logger,
  checks: ReadonlySet<string> = new Set(["p", "s"]),
  /** Also rewrite links that still reach their target but are not written as vmtools writes them (vmmv). */
  canonical = false,
): Promise<Relinked> {
  const here = home.path;
  const was = moves.unmap(here);
  const fixes: string[] = [];
  const file = home.readFile();
  let fileChanged = false;

  // The parent line.
  const parentLink = home.parentLink(file);
  let parentNow: string | undefined;
  if (parentLink !== undefined) {
    parentNow = moves.map(resolve(parentLink, was));
    const link = linkPath(here, parentNow);
    if (checks.has("p") && (resolve(parentLink, here) !== parentNow || (canonical && parentLink !== link))) {
      fixes.push(`parent ${parentLink} -> ${link}`);
      setParent(file, link);
      fileChanged = true;
    }
  }
  // Storage paths set by the VM's own file.
  for (const [name, value] of checks.has("s") ? assignments(file) : []) {
    if (!isBackend(name)) continue;
    const [prefix, location] = splitPrefix(value);
    if (location === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) continue;
    const now = moves.map(resolve(location, was));
    if (resolve(location, here) === now) continue;
    const link = location.startsWith("/") ? now : linkPath(here, now);
    const next = (prefix ? `${prefix}:` : "") + link;
    fixes.push(`${name} ${value} -> ${next}`);
    setValue(file, name, next);
    fileChanged = true;
  }
  if (fileChanged && change) {
    change.keep(file.path);
    writeFileAtomic(file.path, formatSettings(file));
  }
  // The children list.
  const links = home.childLinks();
  const children = links.map((l) => moves.map(resolve(l, was)));
  const canon = children.map((c) => linkPath(here, c));
  if (
    checks.has("p") && links.some((l, i) => resolve(l, here) !== children[i] || (canonical && l !== canon[i]))
  ) {
    fixes.push(`children ${links.join(", ")} -> ${children.map((c) => linkPath(here, c)).join(", ")}`);
    if (change) home.setChildren(change, children);
  }
  // Backing files of the VM's own images (overlays on its parent's disks).
  for (const [name, value] of checks.has("s") ? assignments(home.readFile()) : []) {
    if (!/^vm_storage_hdd\d+_backend$/.test(name)) continue;
    const location = splitPrefix(value)[1];
    if (location === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) continue;
    const image = resolve(location, here);
    let info;
    try {
      info = await backingOf(image);
    } catch {
      continue; // not there, or not an image: the settings fix above is all
    }
    if (info.backingFilename === null) continue;
    const stored = info.backingFilename;
    let now = moves.map(resolve(stored, dirname(moves.unmap(image))));
    if (!reachable(now) && parentNow !== undefined) {
      // Copied or moved where no link tells from where: the parent's image of that name.
      const candidate = `${parentNow}/${stored.slice(stored.lastIndexOf("/") + 1)}`;
      if (reachable(candidate)) now = candidate;
    }
    // An overlay on its parent's disk is linked as a fork links it; any other keeps its style.
    const link = parentNow !== undefined
      ? backingLink(here, parentNow, now)
      : stored.startsWith("/")
      ? now
      : relative(dirname(image), now);
    if (resolve(stored, dirname(image)) === now && !(canonical && stored !== link)) continue;
    fixes.push(`${name} backing file ${stored} -> ${link}`);
    if (change) await setBacking(change, image, link, info.backingFormat ?? "qcow2", log);
  }
  return { home: here, fixes };
}
