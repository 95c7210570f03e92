/**
 * ISO images made from directories, for CD-ROM drives backed by a folder.
 * Only genisoimage makes them: xorriso can launch other programs
 * (`-launch_frontend`), so it is not in the permission set. Each is a
 * hidden file `.cdrom-XXXXXXXXXXXXXXXX.iso` in the VM home (or a bare
 * boot's runtime directory), deleted as soon as QEMU has opened it (its
 * space comes back when the VM stops); one that a killed vmup left is
 * deleted at the VM's next start or by `vmfix -d`.
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

/** The ISO images of directories left in `dir` by a vmup that was killed before QEMU opened them. */
export function leftoverIsos(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && TRANSIENT.test(e.name)) out.push(`${dir}/${e.name}`);
    }
  } catch { /* not there, or not readable: nothing of ours */ }
  return out.sort();
}
