/**
 * The other files QEMU opens for an image file, read from the image itself
 * as QEMU reads them: a qcow2 image's backing file and external data file,
 * a vmdk descriptor's extents and parent (`parentFileNameHint`), the
 * descriptor at a file's start or inside a sparse vmdk. An image someone
 * else made may name any file of yours there; `reach.ts` and the `.vmx`
 * import decide what may be followed.
 * @module
 */
import { readAt } from "../fs.ts";
import { dirname } from "../path.ts";
import { parseQcow2Backing } from "./qcow2.ts";

/** What an image refers to besides itself. */
export interface ImageReferences {
  /** Images below it, opened read-only: a qcow2 backing file, a vmdk parent. Protocol names (`json:`…) as stored. */
  backing: string[];
  /** Files that hold the image's own data, written with it: a vmdk's extents. */
  extents: string[];
  /** Whether it keeps its data in an external data file (qcow2 v3), which QEMU reads and writes. */
  externalData: boolean;
  /** Set when the file says it is a qcow2 image but its header cannot be read. */
  unreadable?: string;
}

/** Enough for qcow2 headers with their extensions and for vmdk descriptor files. */
const HEAD_BYTES = 64 * 1024;
/** The largest descriptor read from inside a sparse vmdk. */
const DESCRIPTOR_BYTES = 1 << 20;

/** QEMU keeps at most this many characters of a vmdk extent's name (a longer one is cut, not refused). */
const EXTENT_NAME_MAX = 511;

/**
 * The files the image `file` (absolute) refers to, relative names joined to
 * its directory as the kernel resolves them (`link/../x` is not `x`). A file
 * that is not a regular file, or cannot be read, refers to nothing: QEMU
 * will say why it cannot open it, and a FIFO is never read.
 */
export function imageReferences(file: string): ImageReferences {
  const none: ImageReferences = { backing: [], extents: [], externalData: false };
  let head: Uint8Array;
  try {
    if (!Deno.statSync(file).isFile) return none;
    head = readAt(file, 0, HEAD_BYTES);
  } catch {
    return none;
  }
  const magic = new TextDecoder("latin1").decode(head.subarray(0, 4));
  const qcow2 = parseQcow2Backing(head);
  if (qcow2) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    // Version 3 headers: incompatible feature bit 2 is "external data file".
    const externalData = view.getUint32(4) >= 3 && head.length >= 80 && (view.getBigUint64(72) & 4n) !== 0n;
    const backing = qcow2.backingFilename === null ? [] : [beside(qcow2.backingFilename, file)];
    return { backing, extents: [], externalData };
  }
  if (magic === "QFI\xfb") return { ...none, unreadable: "its qcow2 header cannot be read" };
  if (magic === "QED\0") return qedReferences(head, file);
  let text = new TextDecoder().decode(head);
  // A sparse vmdk embeds its descriptor: its parent always counts, its extents only at zero capacity.
  let extents = true;
  if (magic === "KDMV" && head.length >= 44) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    extents = view.getBigUint64(12, true) === 0n;
    const at = Number(view.getBigUint64(28, true)) * 512, size = Number(view.getBigUint64(36, true)) * 512;
    try {
      text = at ? new TextDecoder().decode(readAt(file, at, Math.min(size, DESCRIPTOR_BYTES))) : "";
    } catch {
      text = "";
    }
  } else if (!isDescriptor(text, head)) return none;
  // Loosely, as QEMU reads them: any line whose first word is an access mode names an extent.
  const extentNames = extents ? [...text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\b[^"\n]*"([^"\n]*)"/gm)] : [];
  if (extentNames.some((m) => m[1].length > EXTENT_NAME_MAX)) {
    return { ...none, unreadable: `an extent name longer than QEMU reads (${EXTENT_NAME_MAX} characters)` };
  }
  return {
    backing: [...text.matchAll(/^\s*parentFileNameHint\s*=\s*"([^"]*)"/gm)].map((m) => beside(m[1], file)),
    extents: extentNames.map((m) => beside(m[1], file)),
    externalData: false,
  };
}

/**
 * Whether the start of a file is a vmdk text descriptor as QEMU probes
 * one: its usual first line, or text (no NUL byte) with a `version=` line.
 */
function isDescriptor(text: string, head: Uint8Array): boolean {
  if (text.startsWith("# Disk DescriptorFile")) return true;
  return !head.subarray(0, 1024).includes(0) && /^\s*version\s*=\s*\d/m.test(text);
}

/** A QED image's backing file (feature bit 0), from its header. */
function qedReferences(head: Uint8Array, file: string): ImageReferences {
  const none: ImageReferences = { backing: [], extents: [], externalData: false };
  if (head.length < 64) return { ...none, unreadable: "its QED header cannot be read" };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if ((view.getBigUint64(16, true) & 1n) === 0n) return none;
  const at = view.getUint32(56, true), size = view.getUint32(60, true);
  if (at + size > head.length) return { ...none, unreadable: "its QED header cannot be read" };
  try {
    const name = new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(at, at + size));
    return { ...none, backing: [beside(name, file)] };
  } catch {
    return { ...none, unreadable: "its QED header cannot be read" };
  }
}

/** Whether a name an image stores has a protocol (`json:`, `nbd://`…) rather than being a path. */
export function hasProtocol(name: string): boolean {
  return /^[^/]*:/.test(name);
}

/**
 * Where QEMU finds the file `name` an image `file` names: a name with a
 * protocol as it is; a relative one joined to the image's directory but not
 * tidied, so that a real-path lookup follows `link/..` as the kernel does.
 */
function beside(name: string, file: string): string {
  if (hasProtocol(name) || name.startsWith("/")) return name;
  return `${dirname(file)}/${name}`;
}
