/**
 * `.ova` appliances: a tar archive of an OVF descriptor, an optional
 * manifest of digests, and disk images. Reading one checks it whole — the
 * archive readable to its end, every digest of the manifest right, every
 * disk the descriptor names present and a disk image QEMU can read in
 * place — before anything is made of it.
 * @module
 */
import { VmError } from "../../errors.ts";
import { readAt } from "../../fs.ts";
import { basename } from "../../path.ts";
import type { Logger } from "../../ui/log.ts";
import { Progress } from "../../ui/progress.ts";
import { detectContent, type ImageFormat } from "../inspect.ts";
import { type ArchiveMember, scanTar } from "./archive.ts";
import type { Machine, MachineDisk } from "./machine.ts";
import { checkManifest, DIGEST_ALGORITHMS, type ManifestEntry, parseManifest } from "./manifest.ts";
import { type OvfDisk, parseOvf } from "./ovf.ts";

/** The largest descriptor or manifest read. */
const MAX_TEXT = 16 << 20;

/** Disk formats an appliance may hold, and QEMU's driver for each. */
const DRIVERS: Partial<Record<ImageFormat, string>> = {
  vmdk: "vmdk",
  qcow2: "qcow2",
  vdi: "vdi",
  vhd: "vpc",
  vhdx: "vhdx",
  qed: "qed",
  raw: "raw",
};

const isDescriptor = (name: string) => /\.ovf$/i.test(name);
const isManifest = (name: string) => /\.mf$/i.test(name);

/**
 * Reads and checks the appliance at `path`, showing progress on `log`'s
 * terminal: its machine, whose disks are read in place by qemu-img. Any
 * fault is one {@linkcode VmError} naming `path`.
 */
export async function readOva(path: string, log: Logger): Promise<Machine> {
  const size = Deno.statSync(path).size;
  let manifest: ManifestEntry[] | undefined;
  const progress = new Progress(log, `checking ${basename(path)}`, size);
  let members: ArchiveMember[];
  try {
    members = await scanTar(path, {
      // The manifest comes second by the standard, before the disks: only what it asks is computed.
      digestsOf: (name) =>
        isManifest(name) ? [] : manifest ? manifest.filter((e) => e.file === name).map((e) => e.algorithm) : [
          ...DIGEST_ALGORITHMS,
        ],
      wantText: (name) => isDescriptor(name) || isManifest(name),
      maxText: MAX_TEXT,
      onMember: (m) => {
        if (isManifest(m.name) && !manifest) manifest = parseManifest(m.text ?? "", `${path}: ${m.name}`);
      },
      onProgress: (bytes) => progress.update(size ? bytes / size : 1),
    });
    progress.done(true);
  } catch (e) {
    progress.done(false);
    throw e;
  }
  const descriptor = members.find((m) => isDescriptor(m.name));
  if (!descriptor) throw new VmError(`${path}: no OVF descriptor (.ovf file) in the archive`);
  const ovf = await parseOvf(descriptor.text ?? "", `${path}: ${descriptor.name}`);
  if (manifest) checkManifest(manifest, new Map(members.map((m) => [m.name, m.digests])), path);
  const byName = new Map(members.map((m) => [m.name, m]));
  const disks = ovf.disks.map((d) => diskOf(d, byName, path));
  if (!disks.length) throw new VmError(`${path}: the descriptor lists no disk`);
  return { ...ovf, path, kind: "ova", disks };
}

function diskOf(disk: OvfDisk, members: Map<string, ArchiveMember>, path: string): MachineDisk {
  if (disk.file === undefined) {
    if (disk.capacityBytes === undefined) {
      throw new VmError(`${path}: disk '${disk.id}' has neither a file nor a capacity`);
    }
    return { kind: "blank", name: disk.id, bytes: disk.capacityBytes };
  }
  const name = disk.file.replace(/^(\.\/)+/, "");
  if (disk.compression && disk.compression !== "identity") {
    throw new VmError(`${path}: ${name} is compressed (${disk.compression}), which is not supported`);
  }
  if (disk.chunked) throw new VmError(`${path}: ${name} is split into chunks, which is not supported`);
  const member = members.get(name);
  if (!member) throw new VmError(`${path}: the descriptor names ${name}, which the archive does not hold`);
  const format = detectContent(path, member.size, member.offset);
  const driver = DRIVERS[format];
  if (!driver) throw new VmError(`${path}: ${name} is not a disk image QEMU can convert (${format})`);
  if (refersElsewhere(format, readAt(path, member.offset, 512))) {
    // QEMU would open the files it names: outside the archive, anywhere on this host.
    throw new VmError(
      `${path}: ${name} is a ${format} image that refers to other files; only self-contained disks are supported`,
    );
  }
  // Read in place: the file's bytes within the archive, and no backing file whatever the image says.
  const image = "json:" + JSON.stringify({
    driver,
    backing: null,
    file: {
      driver: "raw",
      offset: member.offset,
      size: member.size,
      file: { driver: "file", filename: path },
    },
  });
  return { kind: "member", name, image, format, bytes: member.size };
}

/**
 * Whether an image whose file starts with `head` makes QEMU open other
 * files (a backing file is turned off by the `json:` name): a vmdk that is
 * a text descriptor, or a sparse one whose zero capacity makes QEMU read
 * the descriptor embedded in it; a qcow2 with an external data file.
 */
function refersElsewhere(format: ImageFormat, head: Uint8Array): boolean {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (format === "vmdk") {
    const sparse = head.length >= 20 && new TextDecoder().decode(head.subarray(0, 4)) === "KDMV";
    return !sparse || view.getBigUint64(12, true) === 0n;
  }
  if (format === "qcow2") {
    // Version 3 headers: incompatible feature bit 2 is "external data file".
    return head.length < 80 || (view.getUint32(4) >= 3 && (view.getBigUint64(72) & 4n) !== 0n);
  }
  return false;
}
