/**
 * Storage arguments: an optional access prefix (`rw:`, `wr:`, `snap:`,
 * `ro:`) and a location — an image file (its format read from its content),
 * a block device, a directory, or a URL.
 * @module
 */
import { VmError } from "../errors.ts";
import { extname, resolve } from "../path.ts";

/** Access modes, from the most to the least permissive. */
export type Access = "rw" | "snap" | "ro";

/** Image formats told apart by content. */
export type ImageFormat =
  | "raw"
  | "qcow2"
  | "iso"
  | "vmdk"
  | "vdi"
  | "vhd"
  | "vhdx"
  | "qed"
  | "dmg"
  | "ova"
  | "vmx";

/**
 * Where storage lives. What only a look before QEMU starts can tell (see
 * `preflight.ts`) is optional: `writable` of a block device (false when the
 * user may not write it or the kernel holds it read-only), `format` of a
 * URL's content (`iso` for an ISO 9660 image). Before that look, or for
 * what is not looked at (NBD exports), they are undefined.
 */
export type Location =
  | { kind: "file"; path: string; format: ImageFormat; size: number }
  | { kind: "device"; path: string; writable?: boolean }
  | { kind: "dir"; path: string }
  | { kind: "url"; url: string; scheme: string; format?: ImageFormat };

/** A parsed storage argument. */
export interface StorageRef {
  /** The argument as given. */
  spec: string;
  /** The access prefix, if one was given. */
  prefix?: Access;
  /** What the argument names: a file (with its format by content), a device, a directory or a URL. */
  location: Location;
}

const URL_RE = /^([a-z][a-z0-9+.-]*):\/\//i;
const URL_SCHEMES = [
  "http",
  "https",
  "ftp",
  "ftps",
  "ssh",
  "tftp",
  "nbd",
  "nbd+tcp",
  "nbd+unix",
  "iscsi",
];
// Block-level exports: read-write by default, and raw disks (storage_hdd).
const BLOCK_SCHEMES = ["nbd", "nbd+tcp", "nbd+unix", "iscsi"];
/** Formats QEMU runs natively and that need no conversion. */
export const NATIVE_FORMATS: readonly ImageFormat[] = ["raw", "qcow2"];

/** Splits the access prefix from a storage argument. */
export function splitPrefix(spec: string): [Access | undefined, string] {
  const m = /^(rw|wr|snap|ro):(.*)$/s.exec(spec);
  if (!m || URL_RE.test(spec)) return [undefined, spec];
  return [m[1] === "wr" ? "rw" : m[1] as Access, m[2]];
}

/**
 * Parses a storage argument; relative paths are taken from `base`.
 * Throws a {@linkcode VmError} naming the argument when it does not exist.
 */
export function inspectStorage(spec: string, base = Deno.cwd()): StorageRef {
  const [prefix, rest] = splitPrefix(spec);
  if (rest === "") throw new VmError(`'${spec}': empty storage path`);
  const url = URL_RE.exec(rest);
  if (url) {
    const scheme = url[1].toLowerCase();
    if (!URL_SCHEMES.includes(scheme)) {
      throw new VmError(
        `'${spec}': unsupported URL scheme '${scheme}' (${URL_SCHEMES.join(", ")})`,
      );
    }
    return { spec, prefix, location: { kind: "url", url: rest, scheme } };
  }
  const path = resolve(rest, base);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    // Deno lets no restricted program look below /dev: lsblk does, before QEMU starts.
    if (e instanceof Deno.errors.NotCapable && path.startsWith("/dev/")) {
      return { spec, prefix, location: { kind: "device", path } };
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new VmError(`${rest}: no such file or directory`);
    }
    throw new VmError(`${rest}: ${(e as Error).message}`);
  }
  if (info.isDirectory) {
    return { spec, prefix, location: { kind: "dir", path } };
  }
  if (info.isBlockDevice) {
    return { spec, prefix, location: { kind: "device", path } };
  }
  if (!info.isFile) {
    throw new VmError(
      `${rest}: not an image file, a block device or a directory`,
    );
  }
  return {
    spec,
    prefix,
    location: {
      kind: "file",
      path,
      format: detectFormat(path, info.size),
      size: info.size,
    },
  };
}

/**
 * Reads a file's format from its first bytes (and last sector); an `.ova`
 * or a `.vmx` file that is none of the image formats is taken for what its
 * name says (and read as that, which names what is wrong with it).
 */
export function detectFormat(path: string, size: number): ImageFormat {
  const format = detectContent(path, size);
  if (format !== "raw") return format;
  const ext = extname(path).toLowerCase();
  return ext === "ova" || ext === "vmx" ? ext : format;
}

/**
 * The format of the `size` bytes at `offset` in the file `path` (an image
 * inside an archive, say), told by their content alone.
 */
export function detectContent(path: string, size: number, offset = 0): ImageFormat {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch (e) {
    throw new VmError(`${path}: cannot open: ${(e as Error).message}`);
  }
  try {
    const head = new Uint8Array(Math.min(0x8006, size));
    const n = readAt(f, head, offset);
    const text = (from: number, len: number) =>
      n >= from + len ? String.fromCharCode(...head.subarray(from, from + len)) : "";
    if (text(0, 4) === "QFI\xfb") return "qcow2";
    if (text(0, 4) === "QED\0") return "qed";
    if (text(0, 4) === "KDMV" || text(0, 21) === "# Disk DescriptorFile") {
      return "vmdk";
    }
    if (text(0, 8) === "vhdxfile") return "vhdx";
    if (text(0, 8) === "conectix") return "vhd";
    if (
      n >= 0x44 && head[0x40] === 0x7f && head[0x41] === 0x10 &&
      head[0x42] === 0xda && head[0x43] === 0xbe
    ) {
      return "vdi";
    }
    if (text(0x8001, 5) === "CD001") return "iso";
    // A tar archive whose first file is an OVF descriptor.
    if (text(257, 5) === "ustar" && /\.ovf\0/i.test(text(0, 100) + "\0")) return "ova";
    if (size >= 512) {
      const tail = new Uint8Array(512);
      readAt(f, tail, offset + size - 512);
      const t = String.fromCharCode(...tail.subarray(0, 8));
      if (t === "conectix") return "vhd";
      if (t.startsWith("koly")) return "dmg";
    }
    return "raw";
  } finally {
    f.close();
  }
}

function readAt(f: Deno.FsFile, buf: Uint8Array, offset: number): number {
  f.seekSync(offset, Deno.SeekMode.Start);
  let total = 0;
  while (total < buf.length) {
    const n = f.readSync(buf.subarray(total));
    if (n === null) break;
    total += n;
  }
  return total;
}

/** The access a location gets when no prefix is given. */
export function defaultAccess(loc: Location): Access {
  switch (loc.kind) {
    case "file":
      if (loc.format === "iso") return "ro";
      return NATIVE_FORMATS.includes(loc.format) ? "rw" : "snap";
    case "device":
      return loc.writable === false ? "snap" : "rw";
    case "dir":
      return "snap";
    case "url":
      return BLOCK_SCHEMES.includes(loc.scheme) ? "rw" : "snap";
  }
}

const RANK: Record<Access, number> = { rw: 0, snap: 1, ro: 2 };

/** The stricter of two access modes. */
export function stricter(a: Access, b: Access): Access {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The access a storage reference gets, capped by `vm_storage_rwmode`. */
export function effectiveAccess(ref: StorageRef, cap: Access): Access {
  return stricter(ref.prefix ?? defaultAccess(ref.location), cap);
}

/** Reads an access mode setting, naming it on error. */
export function parseAccess(value: string, what: string): Access {
  if (value === "rw" || value === "snap" || value === "ro") return value;
  if (value === "wr") return "rw";
  throw new VmError(`${what}='${value}': expected rw, snap or ro`);
}

/**
 * Whether storage should be attached as a CD-ROM rather than a disk: an ISO
 * image by content; a URL whose content was not read, by the extension of
 * its path.
 */
export function isCdrom(ref: StorageRef): boolean {
  const loc = ref.location;
  if (loc.kind === "file") return loc.format === "iso";
  if (loc.kind !== "url") return false;
  return loc.format === undefined ? urlExtension(loc.url) === "iso" : loc.format === "iso";
}

/** The extension of a URL's path (query and fragment left out), lower case. */
export function urlExtension(url: string): string {
  const path = url.replace(/^[^:]*:\/\/[^/]*/, "").replace(/[?#].*$/s, "");
  return extname(path).toLowerCase();
}

/** Doubles commas so a path survives QEMU's option parser. */
export function escapeComma(text: string): string {
  return text.replaceAll(",", ",,");
}
