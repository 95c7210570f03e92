/**
 * Values a domain needs to be unique that vmtools does not store: its UUID,
 * and the rest of a MAC address a setting gives only the start of. Both
 * come from a hash of the VM home's real path, so the same home always
 * gives the same domain (and its guest the same MACs and SMBIOS UUID from
 * one run to the next), and two homes never share one.
 * @module
 */
import { completeMac } from "../mac.ts";

/** 32 bytes derived from `parts` (SHA-256 of them, NUL-separated). */
async function stableBytes(...parts: string[]): Promise<Uint8Array> {
  const data = new TextEncoder().encode(["vmtools-libvirt", ...parts].join("\0"));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/** The domain UUID of the VM at `home` (a real path), in RFC 9562 form, version 8 (custom). */
export async function stableUuid(home: string): Promise<string> {
  const b = (await stableBytes("uuid", home)).subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `prefix` completed to a MAC address for interface `n` of the VM at `home` (unchanged when already complete). */
export async function stableMac(prefix: string, home: string, n: number): Promise<string> {
  return completeMac(prefix, await stableBytes("mac", home, String(n)));
}
