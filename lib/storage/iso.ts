/**
 * ISO images made from directories, for CD-ROM drives backed by a folder.
 * Only genisoimage makes them: xorriso can launch other programs
 * (`-launch_frontend`), so it is not in the permission set.
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
