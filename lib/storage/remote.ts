/**
 * A look at storage behind a URL before QEMU starts: whether it can be
 * opened at all (one line saying why not, instead of QEMU's stack of
 * messages), its format, and whether it is an ISO 9660 image (read at
 * 32 KiB, as for a file) so that it goes into a CD-ROM drive.
 *
 * The look is taken by `qemu-img`, the program that reads URLs for QEMU,
 * not by vmtools: its permission set denies every IPv4 connection, and
 * `qemu-img` speaks every scheme QEMU does (HTTP ranges, FTP, SSH, iSCSI)
 * with QEMU's own options. NBD exports are not looked at: `qemu-nbd`
 * serves one client and, without `--persistent`, exits when it leaves, so
 * the look would take the connection meant for QEMU.
 * @module
 */
import { VmError } from "../errors.ts";
import type { Logger } from "../ui/log.ts";
import type { ImageFormat } from "./inspect.ts";
import { readRemoteHead, remoteImage } from "./qemuimg.ts";

/** How long a server may take to answer one look (QEMU's curl driver gives up after 5 s itself). */
const REMOTE_TIMEOUT_MS = 10_000;

/** The bytes read from the start of a raw image: its first 32 KiB and the ISO 9660 volume descriptor. */
const HEAD = 0x8800;

/** QEMU's format names as vmtools names them. */
const FORMATS: Record<string, ImageFormat> = {
  raw: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vdi: "vdi",
  vpc: "vhd",
  vhdx: "vhdx",
  qed: "qed",
  dmg: "dmg",
};

/**
 * Looks at the storage at `url` (scheme `scheme`, lower case): throws a
 * {@linkcode VmError} naming the URL when it cannot be opened; returns its
 * format (`iso` for an ISO 9660 image), or undefined when it was not
 * looked at (NBD) or QEMU's format has no vmtools name.
 */
export async function lookAtUrl(url: string, scheme: string, log: Logger): Promise<ImageFormat | undefined> {
  if (scheme.startsWith("nbd")) {
    if (scheme === "nbd+unix") checkNbdSocket(url);
    return undefined;
  }
  log.step(`looking at ${url}`);
  const fail = (e: unknown): never => {
    throw new VmError(`${url}: cannot be opened: ${explain((e as Error).message, url, scheme)}`);
  };
  const image = await remoteImage(url, REMOTE_TIMEOUT_MS, log).catch(fail);
  // A remote image naming a host file as its backing file, extent or data file would show it to the guest.
  const backing = image.backings.find((b) => !isRemoteBacking(b, url));
  if (backing !== undefined) {
    throw new VmError(`${url}: its backing file is a file on this host (${backing}); not using it`);
  }
  const extent = image.extents.find((e) => !isRemoteBacking(e, url));
  if (extent !== undefined) {
    throw new VmError(
      `${url}: its descriptor names a file on this host as an extent (${extent}); not using it`,
    );
  }
  if (image.dataFiles.length) {
    throw new VmError(`${url}: keeps its data in an external file (${image.dataFiles[0]}); not using it`);
  }
  // Block-level exports hold raw disks; reading a format from them would let a guest choose it.
  const format = scheme === "iscsi" ? "raw" : FORMATS[image.format];
  if (format !== "raw" || image.virtualSize < HEAD) return format;
  const file = Deno.makeTempFileSync({ prefix: "vmtools-head-" });
  const head = await readRemoteHead(url, HEAD, file, REMOTE_TIMEOUT_MS, log).catch(fail);
  return isIsoHead(head) ? "iso" : "raw";
}

/** Why `url` cannot be opened, from qemu-img's `why`, with what a user can do about it. */
function explain(why: string, url: string, scheme: string): string {
  if (/Unknown protocol/.test(why)) {
    // QEMU 7.2 has neither a tftp driver nor tftp in its curl driver (http, https, ftp, ftps).
    return scheme === "tftp"
      ? `${why} (QEMU has no TFTP driver: fetch the image and boot the file)`
      : `${why} (QEMU's driver for ${scheme} is missing: Debian package qemu-block-extra)`;
  }
  // libiscsi's words for a portal that refused or never answered the connection.
  if (scheme === "iscsi" && /iscsi_service_reconnect_if_loggedin/.test(why)) {
    const host = /^iscsi:\/\/(?:[^@/]*@)?([^/]*)/i.exec(url)?.[1] ?? "";
    return `cannot connect to the iSCSI portal ${/:\d+$/.test(host) ? host : `${host}:3260`}`;
  }
  return why;
}

/**
 * Whether the backing file `backing` of the remote image at `url` is
 * fetched from a server as the image is: a web or FTP URL, or one on the
 * image's own server by its own scheme. Not `file://`, `json:` or a path
 * (a file of this host), nor an SSH, NBD or other URL to another host,
 * which would connect as the user (to their own machine, say).
 */
export function isRemoteBacking(backing: string, url: string): boolean {
  const place = (u: string) => /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(u);
  const b = place(backing), u = place(url);
  if (!b) return false;
  const scheme = b[1].toLowerCase();
  if (["http", "https", "ftp", "ftps", "tftp"].includes(scheme)) return true;
  return u !== null && scheme === u[1].toLowerCase() && b[2].toLowerCase() === u[2].toLowerCase();
}

/** Whether `head` (an image's first bytes) holds an ISO 9660 volume descriptor at 32 KiB. */
export function isIsoHead(head: Uint8Array): boolean {
  return head.length >= 0x8006 &&
    String.fromCharCode(...head.subarray(0x8001, 0x8006)) === "CD001";
}

/** The socket of an `nbd+unix` URL must be there (QEMU would only say it could not connect). */
function checkNbdSocket(url: string): void {
  const socket = new URLSearchParams(url.replace(/^[^?]*\??/, "").replace(/#.*$/s, "")).get("socket");
  if (!socket) throw new VmError(`${url}: an nbd+unix URL names its socket: nbd+unix:///EXPORT?socket=PATH`);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(socket);
  } catch {
    throw new VmError(`${url}: no NBD server: ${socket} does not exist`);
  }
  if (!info.isSocket) throw new VmError(`${url}: ${socket} is not a socket`);
}
