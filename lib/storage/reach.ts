/**
 * What a VM's storage may make QEMU write on this host. A VM home, or an
 * image, may come from someone else, and must not change another VM:
 *
 * - A disk that a VM's own settings file (or a parent's) names, and that
 *   QEMU would open for writing, must not lie in another VM's home: only
 *   in this VM's home, a parent's, or in no VM home. Read-only and
 *   snapshot access (`ro:`, `snap:`, a CD-ROM) may name any image, as
 *   `vmcp -s` copies do. `-o`, templates and `vmtools.conf` are the user's
 *   choice and name what they like.
 * - Down every image's chain: a vmdk's extents (written with it) lie beside
 *   their descriptor or below; a qcow2 image with an external data file
 *   (written with the image, and able to name any file) is refused; a
 *   backing file named with a protocol other than a fetched URL (HTTP, FTP,
 *   TFTP) is refused, as for remote images: `json:` and the others can
 *   name any file or make QEMU connect anywhere as you.
 *
 * A VM home is the nearest directory up from a file (symbolic links
 * followed) that holds a settings file. Reading a qcow2 header or a vmdk
 * descriptor costs no process: a few stat calls and one small read per
 * image at each start.
 * @module
 */
import { VmError } from "../errors.ts";
import { realPathOr } from "../fs.ts";
import { isVmHome } from "../home/home.ts";
import { dirname } from "../path.ts";
import { homeLineage } from "../settings/resolve.ts";
import { fromVmHome, type Settings } from "../settings/settings.ts";
import type { Drive } from "./drives.ts";
import { type Access, effectiveAccess, parseAccess, type StorageRef } from "./inspect.ts";
import { hasProtocol, imageReferences } from "./references.ts";

/** Backing files named by URL that QEMU fetches read-only, as for remote images. */
const FETCHED = /^(https?|ftps?|tftp):\/\//i;
/** Deeper chains are refused (QEMU's own limit is far above any real tree). */
const MAX_DEPTH = 256;

/** Finds VM homes and their lineages, each looked up once. */
export class HomeFinder {
  readonly #homeOf = new Map<string, string | undefined>();
  readonly #lineage = new Map<string, string[]>();

  /** `settingsName` is `cfg_file_vmsettings`; `limit` is `cfg_limit_nesting`. */
  constructor(readonly settingsName: string, readonly limit: number) {}

  /**
   * The real path of the VM home holding `path` (the nearest up), or
   * undefined. `self`: a directory that is a home counts as its own.
   */
  homeOf(path: string, self = false): string | undefined {
    const real = realPathOr(path);
    let dir = self ? real : dirname(real);
    const seen: string[] = [];
    let found: string | undefined;
    for (;;) {
      if (this.#homeOf.has(dir)) {
        found = this.#homeOf.get(dir);
        break;
      }
      seen.push(dir);
      if (isVmHome(dir, this.settingsName)) {
        found = dir;
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    for (const d of seen) this.#homeOf.set(d, found);
    return found;
  }

  /** The real paths of `home` and its ancestors; just `home` when its links cannot be read. */
  lineage(home: string): string[] {
    let homes = this.#lineage.get(home);
    if (!homes) {
      try {
        homes = homeLineage(home, this.settingsName, this.limit).map(realPathOr);
      } catch {
        homes = [home];
      }
      this.#lineage.set(home, homes);
    }
    return homes;
  }
}

/** The checks of one VM's drives (see the module's rules), made drive by drive. */
export class ReachCheck {
  readonly #settings: Settings;
  readonly #finder: HomeFinder;
  readonly #cap: Access;
  #lineage?: string[];

  /** For the VM whose resolved settings are `settings`. */
  constructor(settings: Settings) {
    this.#settings = settings;
    this.#finder = new HomeFinder(
      settings.get("cfg_file_vmsettings") || "vm.settings",
      settings.int("cfg_limit_nesting"),
    );
    this.#cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
  }

  /** Throws a {@linkcode VmError} naming the drive and the file at fault when `drive` (read as `ref`) breaks a rule. */
  drive(drive: Drive, ref: StorageRef): void {
    const loc = ref.location;
    if (loc.kind !== "file" && loc.kind !== "dir") return;
    const what = `${drive.name} (${loc.path})`;
    const writes = drive.kind === "hdd" && effectiveAccess(ref, this.#cap) === "rw";
    if (writes && fromVmHome(this.#settings.origin(`vm_storage_${drive.name}_backend`))) {
      const owner = this.#finder.homeOf(loc.path, loc.kind === "dir");
      if (owner !== undefined && !this.#ownLineage().includes(owner)) {
        throw new VmError(
          `${what}: lies in the VM home ${owner}, another VM's, and would be written; a VM's settings ` +
            `may write only its own files and its parents' (snap: or ro: reads it; vmfork makes an overlay on it)`,
        );
      }
    }
    if (loc.kind === "file") checkChain(what, loc.path);
  }

  /** The real paths of the VM's home and its parents' (none for a bare boot). */
  #ownLineage(): string[] {
    const home = this.#settings.get("vm_home");
    return this.#lineage ??= home ? this.#finder.lineage(realPathOr(home)) : [];
  }
}

/** Follows the chain of the image `top` (see the module's rules); throws a {@linkcode VmError} at the first fault. */
export function checkChain(what: string, top: string): void {
  const seen = new Set<string>();
  let image: string | undefined = top;
  for (let depth = 0; image !== undefined; depth++) {
    const real = realPathOr(image);
    if (seen.has(real)) throw new VmError(`${what}: its chain of backing files loops at ${image}`);
    if (depth > MAX_DEPTH) throw new VmError(`${what}: more than ${MAX_DEPTH} backing files`);
    seen.add(real);
    const refs = imageReferences(real);
    const at = image === top ? "" : ` (down its chain, in ${image})`;
    if (refs.unreadable) throw new VmError(`${what}${at}: ${refs.unreadable}`);
    if (refs.externalData) {
      throw new VmError(
        `${what}${at}: keeps its data in an external data file, which vmtools does not open ` +
          `(it may name any file of yours); convert it with qemu-img convert first`,
      );
    }
    for (const extent of refs.extents) {
      const where = realPathOr(extent);
      const folder = dirname(real);
      if (hasProtocol(extent) || (where !== folder && !where.startsWith(`${folder}/`))) {
        throw new VmError(`${what}${at}: its extent ${extent} lies outside its folder ${folder}`);
      }
    }
    image = undefined;
    for (const backing of refs.backing) {
      if (hasProtocol(backing)) {
        if (FETCHED.test(backing)) continue;
        throw new VmError(
          `${what}${at}: its backing file is '${backing}', a name with a protocol vmtools does not follow`,
        );
      }
      image = backing;
    }
  }
}
