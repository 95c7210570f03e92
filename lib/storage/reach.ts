/**
 * What a VM's storage may make QEMU write on this host. A VM home, or an
 * image, may come from someone else, and must not change another VM:
 *
 * - A disk that a VM's own settings file (or a parent's) names, and that
 *   QEMU would open for writing, must lie in this VM's home or in no VM
 *   home: not in a parent's (a parent line is the child's own word, and a
 *   child writing its parent's disk would change the whole tree), a
 *   child's or any other. A folder written as a FAT disk may hold neither
 *   another VM's home nor a symbolic link. Read-only and snapshot access
 *   (`ro:`, `snap:`, a CD-ROM) may name any image, as `vmcp -s` copies do.
 *   `-o`, templates and `vmtools.conf` are the user's choice and name what
 *   they like.
 * - Down every image's chain: a vmdk's extents (written with it) lie beside
 *   their descriptor or below, in the same VM home; a qcow2 image with an external data file
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
import { printable, VmError } from "../errors.ts";
import { realPathOr } from "../fs.ts";
import { isVmHome } from "../home/home.ts";
import { dirname } from "../path.ts";
import { fromVmHome, type Settings } from "../settings/settings.ts";
import type { Drive } from "./drives.ts";
import type { StorageFacts } from "./preflight.ts";
import { type Access, effectiveAccess, parseAccess, type StorageRef } from "./inspect.ts";
import { hasProtocol, imageReferences } from "./references.ts";

/** Backing files named by URL that QEMU fetches read-only, as for remote images. */
const FETCHED = /^(https?|ftps?|tftp):\/\//i;
/** Deeper chains are refused (QEMU's own limit is far above any real tree). */
const MAX_DEPTH = 256;
/** Folders looked through in a read-write FAT disk (QEMU's FAT disk holds far fewer). */
const TREE_LIMIT = 100_000;

/** Finds the VM homes files lie in, each folder looked at once. */
export class HomeFinder {
  readonly #homeOf = new Map<string, string | undefined>();

  /** `settingsName` is `cfg_file_vmsettings`. */
  constructor(readonly settingsName: string) {}

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
      if (dir === "/") break; // (dirname("/") is ".", which would be the current directory)
      dir = dirname(dir);
    }
    for (const d of seen) this.#homeOf.set(d, found);
    return found;
  }
}

/** The checks of one VM's drives (see the module's rules), made drive by drive. */
export class ReachCheck {
  readonly #settings: Settings;
  readonly #finder: HomeFinder;
  readonly #cap: Access;
  readonly #facts: StorageFacts;

  /** For the VM whose resolved settings are `settings`; `facts` keeps which chains were checked already. */
  constructor(settings: Settings, facts: StorageFacts) {
    this.#settings = settings;
    this.#facts = facts;
    this.#finder = new HomeFinder(settings.get("cfg_file_vmsettings") || "vm.settings");
    this.#cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
  }

  /** Throws a {@linkcode VmError} naming the drive and the file at fault when `drive` (read as `ref`) breaks a rule. */
  drive(drive: Drive, ref: StorageRef): void {
    const loc = ref.location;
    if (loc.kind !== "file" && loc.kind !== "dir") return;
    const what = `${drive.name} (${printable(loc.path)})`;
    const writes = drive.kind === "hdd" && effectiveAccess(ref, this.#cap) === "rw";
    if (writes && fromVmHome(this.#settings.origin(`vm_storage_${drive.name}_backend`))) {
      // Its own home only: a parent line is the child's own word, and a parent's disk written by a child
      // would change the parent and every sibling.
      const own = this.#ownHome();
      const owner = this.#finder.homeOf(loc.path, loc.kind === "dir");
      if (owner !== undefined && owner !== own) {
        throw new VmError(
          `${what}: lies in the VM home ${printable(owner)}, not this VM's, and would be written; a VM's ` +
            `settings may write only its own files (snap: or ro: reads it; vmfork makes an overlay on it)`,
        );
      }
      if (loc.kind === "dir") this.#checkTree(what, loc.path, own);
    }
    if (loc.kind === "file") this.#facts.chain(what, loc.path, this.#finder);
  }

  /**
   * A folder written as a FAT disk: QEMU writes every file in it and follows
   * its symbolic links, so it may hold neither a link nor another VM's home.
   */
  #checkTree(what: string, dir: string, own: string | undefined): void {
    const pending = [realPathOr(dir)];
    for (let seen = 0; pending.length; seen++) {
      if (seen > TREE_LIMIT) {
        throw new VmError(`${what}: more than ${TREE_LIMIT} folders to write as a FAT disk`);
      }
      const at = pending.pop()!;
      if (at !== own && isVmHome(at, this.#finder.settingsName)) {
        throw new VmError(
          `${what}: holds the VM home ${printable(at)}, which a read-write FAT disk would write`,
        );
      }
      for (const entry of Deno.readDirSync(at)) {
        if (entry.isSymlink) {
          throw new VmError(
            `${what}: holds the symbolic link ${
              printable(`${at}/${entry.name}`)
            }, through which a read-write ` +
              `FAT disk would write; use snap: or ro:`,
          );
        }
        if (entry.isDirectory) pending.push(`${at}/${entry.name}`);
      }
    }
  }

  /** The real path of the VM's home (none for a bare boot). */
  #ownHome(): string | undefined {
    const home = this.#settings.get("vm_home");
    return home ? realPathOr(home) : undefined;
  }
}

/**
 * Follows the chain of the image `top` (see the module's rules); throws a
 * {@linkcode VmError} at the first fault. `finder` tells which VM home an
 * extent lies in.
 */
export function checkChain(what: string, top: string, finder = new HomeFinder("vm.settings")): void {
  const seen = new Set<string>();
  let image: string | undefined = top;
  for (let depth = 0; image !== undefined; depth++) {
    const real = realPathOr(image);
    const shown = printable(image);
    if (seen.has(real)) throw new VmError(`${what}: its chain of backing files loops at ${shown}`);
    if (depth > MAX_DEPTH) throw new VmError(`${what}: more than ${MAX_DEPTH} backing files`);
    seen.add(real);
    const refs = imageReferences(real);
    const at = image === top ? "" : ` (down its chain, in ${shown})`;
    if (refs.unreadable) throw new VmError(`${what}${at}: ${refs.unreadable}`);
    if (refs.externalData) {
      throw new VmError(
        `${what}${at}: keeps its data in an external data file, which vmtools does not open ` +
          `(it may name any file of yours); convert it with qemu-img convert first`,
      );
    }
    const folder = dirname(real);
    for (const extent of refs.extents) {
      const where = realPathOr(extent);
      const inside = where === folder || where.startsWith(`${folder}/`);
      if (hasProtocol(extent) || !inside) {
        throw new VmError(
          `${what}${at}: its extent ${printable(extent)} lies outside its folder ${printable(folder)}`,
        );
      }
      if (finder.homeOf(where) !== finder.homeOf(real)) {
        throw new VmError(`${what}${at}: its extent ${printable(extent)} lies in another VM's home`);
      }
    }
    image = undefined;
    for (const backing of refs.backing) {
      if (hasProtocol(backing)) {
        if (FETCHED.test(backing)) continue;
        throw new VmError(
          `${what}${at}: its backing file is '${
            printable(backing)
          }', a name with a protocol vmtools does not follow`,
        );
      }
      image = backing;
    }
  }
}
