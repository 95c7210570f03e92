/**
 * ISO images made from directories, for CD-ROM drives backed by a folder.
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
  for (
    const [program, prefix] of [["xorriso", ["-as", "mkisofs"]], [
      "genisoimage",
      [],
    ]] as const
  ) {
    try {
      log.at(5, `${program} ${[...prefix, ...args].join(" ")}`);
      const r = await run(program, [...prefix, ...args]);
      if (r.code !== 0) {
        throw new VmError(
          `${program} failed on ${dir}: ${r.stderr.trim().split("\n").pop()}`,
        );
      }
      return;
    } catch (e) {
      if (e instanceof VmError && /not found in PATH/.test(e.message)) continue;
      throw e;
    }
  }
  throw new VmError(
    `cannot make an ISO of ${dir}: neither xorriso nor genisoimage is installed`,
  );
}
