/**
 * MAC addresses: a prefix of up to six colon-separated hex pairs is
 * completed at random. When the first byte itself is random it is made
 * unicast and locally administered.
 * @module
 */
import { UsageError } from "./errors.ts";

/** Checks a MAC prefix (`52:54:00`, `52:54:00:`, or empty). */
export function parseMacPrefix(prefix: string): string[] {
  const trimmed = prefix.replace(/:$/, "");
  if (trimmed === "") return [];
  const pairs = trimmed.split(":");
  if (pairs.length > 6 || !pairs.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new UsageError(
      `'${prefix}': expected up to six colon-separated hex pairs (e.g. 52:54:00)`,
    );
  }
  return pairs.map((p) => p.toLowerCase());
}

/** Completes `prefix` to a full MAC address with random bytes. */
export function randomMac(prefix: string): string {
  return completeMac(prefix, crypto.getRandomValues(new Uint8Array(6)));
}

/**
 * Completes `prefix` to a full MAC address with the first of `bytes` (at
 * least six), as {@linkcode randomMac} does with random ones.
 */
export function completeMac(prefix: string, bytes: Uint8Array): string {
  const pairs = parseMacPrefix(prefix);
  const fill = Uint8Array.from(bytes.subarray(0, 6 - pairs.length));
  if (pairs.length === 0) fill[0] = (fill[0] & 0xfc) | 0x02;
  return [...pairs, ...[...fill].map((b) => b.toString(16).padStart(2, "0"))]
    .join(":");
}
