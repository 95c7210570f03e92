/**
 * ISO images made from directories, for CD-ROM drives backed by a folder,
 * and from a few files held in memory (the cloud-init seed). Only
 * genisoimage makes them: xorriso can launch other programs
 * (`-launch_frontend`), so it is not in the permission set. A directory's
 * image is a hidden file `.cdrom-XXXXXXXXXXXXXXXX.iso` in the VM home (or a
 * bare boot's runtime directory), deleted as soon as QEMU has opened it
 * (its space comes back when the VM stops); one that a killed vmup left is
 * deleted at the VM's next start or by `vmfix -d`. An image of files is
 * kept from one start to the next while their content stays the same.
 * @module
 */
import { VmError } from "../errors.ts";
import { run } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";

/** Builds an ISO 9660 image (Rock Ridge + Joliet) of `dir` at `target`. */
export async function buildIso(
  dir: string,
  target: string,
  log: Logger,
): Promise<void> {
  const args = ["-quiet", "-J", "-R", "-o", target, dir];
  log.at(2, `making an ISO image of ${dir}`);
  log.at(5, `genisoimage ${args.join(" ")}`);
  let r;
  try {
    r = await run("genisoimage", args);
  } catch (e) {
    throw new VmError(`cannot make an ISO of ${dir}: ${(e as Error).message}`);
  }
  if (r.code !== 0) {
    throw new VmError(
      `genisoimage failed on ${dir}: ${r.stderr.trim().split("\n").pop()}`,
    );
  }
}

/** Makes the empty file a directory's ISO image is built into, in `dir`. */
export function newTransientIso(dir: string): string {
  return Deno.makeTempFileSync({ dir, prefix: ".cdrom-", suffix: ".iso" });
}

/** The name pattern of {@linkcode newTransientIso}'s files. */
const TRANSIENT = /^\.cdrom-[0-9a-f]{16}\.iso$/;

/** Whether a file name is one {@linkcode newTransientIso} gives. */
export function isTransientIso(name: string): boolean {
  return TRANSIENT.test(name);
}

/** The files of an ISO image made by {@linkcode makeIsoImage}: name → content. */
export type IsoFiles = Readonly<Record<string, string | Uint8Array>>;

/** What the application identifier of an image made by {@linkcode makeIsoImage} starts with. */
const DIGEST_TAG = "vmtools-sha256:";

/** The primary volume descriptor: sector 16 of 2048 bytes. */
const PVD = 16 * 2048;

/**
 * Makes an ISO 9660 image (Rock Ridge + Joliet) with the volume label
 * `label` holding `files` at `target`, unless `target` holds exactly these
 * already: a digest of the label and the files is kept in the image's
 * application identifier, so an unchanged image is neither rebuilt nor
 * rewritten. The image is written beside `target`, readable by its owner
 * only (the files may hold secrets), and renamed over it. Returns whether
 * it was made.
 */
export async function makeIsoImage(
  target: string,
  label: string,
  files: IsoFiles,
  log: Logger,
): Promise<boolean> {
  const tag = DIGEST_TAG + await isoDigest(label, files);
  if (isoApplicationId(target) === tag) {
    log.at(4, `${target}: up to date`);
    return false;
  }
  const stage = Deno.makeTempDirSync({ prefix: "vmtools-iso-" });
  const partial = `${target}.tmp-${Deno.pid}`;
  try {
    for (const [name, data] of Object.entries(files)) {
      if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith(".")) {
        throw new VmError(`'${name}': not a plain file name`);
      }
      if (typeof data === "string") Deno.writeTextFileSync(`${stage}/${name}`, data);
      else Deno.writeFileSync(`${stage}/${name}`, data);
    }
    const args = ["-quiet", "-J", "-r", "-V", label, "-A", tag, "-o", partial, stage];
    log.at(5, `genisoimage ${args.join(" ")}`);
    let r;
    try {
      r = await run("genisoimage", args);
    } catch (e) {
      throw new VmError(`cannot make ${target}: ${(e as Error).message}`);
    }
    if (r.code !== 0) {
      throw new VmError(`genisoimage failed making ${target}: ${r.stderr.trim().split("\n").pop()}`);
    }
    Deno.chmodSync(partial, 0o600);
    Deno.renameSync(partial, target);
  } catch (e) {
    try {
      Deno.removeSync(partial);
    } catch { /* never made */ }
    throw e;
  } finally {
    Deno.removeSync(stage, { recursive: true });
  }
  return true;
}

/** The SHA-256 digest (hex) of a label and files, independent of the order the files are given in. */
export async function isoDigest(label: string, files: IsoFiles): Promise<string> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(`vmtools-iso 1\0${label}\0`)];
  for (const name of Object.keys(files).sort()) {
    const data = files[name];
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    parts.push(enc.encode(`${name}\0${bytes.length}\0`), bytes);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The application identifier of the ISO 9660 image at `path`, or `undefined` when it is missing or no such image. */
export function isoApplicationId(path: string): string | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch {
    return undefined;
  }
  try {
    const pvd = new Uint8Array(2048);
    file.seekSync(PVD, Deno.SeekMode.Start);
    let got = 0;
    while (got < pvd.length) {
      const n = file.readSync(pvd.subarray(got));
      if (n === null) return undefined;
      got += n;
    }
    const text = new TextDecoder("latin1").decode(pvd);
    if (pvd[0] !== 1 || text.slice(1, 6) !== "CD001") return undefined;
    return text.slice(574, 702).trimEnd();
  } finally {
    file.close();
  }
}
