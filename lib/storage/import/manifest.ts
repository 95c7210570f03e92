/**
 * OVF manifests (the `.mf` file of an `.ova`): one `SHA256(FILE)= DIGEST`
 * line per file of the archive, SHA-1, SHA-256 or SHA-512.
 * @module
 */
import { VmError } from "../../errors.ts";

/** The digest algorithms a manifest may use, as node:crypto names them. */
export type DigestAlgorithm = "sha1" | "sha256" | "sha512";

/** Every algorithm a manifest may use. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["sha1", "sha256", "sha512"];

/** One line of a manifest. */
export interface ManifestEntry {
  /** The algorithm the line names (`SHA256(…)` is `sha256`). */
  algorithm: DigestAlgorithm;
  /** The file's name in the archive. */
  file: string;
  /** Lower-case hex. */
  digest: string;
  /** Its line in the manifest (from 1). */
  line: number;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

/** Reads a manifest's text; `where` names it in errors, which give the line. */
export function parseManifest(text: string, where: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const m = /^(SHA1|SHA256|SHA512)\((.+)\)\s*=\s*([0-9A-Fa-f]+)$/i.exec(line);
    const algorithm = m?.[1].toLowerCase() as DigestAlgorithm | undefined;
    if (!m || !algorithm || m[3].length !== HEX_LENGTH[algorithm]) {
      throw new VmError(`${where}:${i + 1}: expected 'SHA256(FILE)= DIGEST' (SHA1, SHA256 or SHA512)`);
    }
    out.push({ algorithm, file: m[2], digest: m[3].toLowerCase(), line: i + 1 });
  });
  return out;
}

/**
 * Checks every manifest entry against the digests computed of the
 * archive's files (`digests.get(file).get(algorithm)`, lower-case hex). A
 * file the manifest lists but the archive lacks, or a digest that differs,
 * is an error naming `archive` and the file.
 */
export function checkManifest(
  entries: readonly ManifestEntry[],
  digests: ReadonlyMap<string, ReadonlyMap<DigestAlgorithm, string>>,
  archive: string,
): void {
  for (const e of entries) {
    const computed = digests.get(e.file);
    if (!computed) {
      throw new VmError(`${archive}: the manifest lists ${e.file}, which the archive does not hold`);
    }
    if (computed.get(e.algorithm) !== e.digest) {
      throw new VmError(
        `${archive}: checksum mismatch for ${e.file} (${e.algorithm.toUpperCase()}): the archive is damaged or was altered`,
      );
    }
  }
}
