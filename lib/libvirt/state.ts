/**
 * Whether a VM vmup started under libvirt still runs: what its home's
 * record says (URI, domain UUID, token) against what libvirt answers. The
 * domain must be active and carry the record's token in its metadata, so a
 * record naming someone else's domain never makes vmtools touch it.
 * @module
 */
import { METADATA_NS } from "./render.ts";
import { virsh, virshError } from "./virsh.ts";

/** Where a VM runs under libvirt, as its record keeps it. */
export interface LibvirtRef {
  /** The libvirt connection URI. */
  uri: string;
  /** The domain's UUID. */
  uuid: string;
  /** The domain's name. */
  domain: string;
}

/** What libvirt says of a recorded domain: it runs with the token, runs without it, or is not running. */
export type LibvirtAnswer = "match" | "other" | "gone";

/**
 * Asks libvirt about the domain of `ref`. `active`, when given, is the list
 * of active domain UUIDs at that URI already asked for (see
 * {@linkcode activeDomains}). Throws a `VmError` when libvirt cannot be asked.
 */
export async function libvirtAnswer(
  ref: LibvirtRef,
  token: string,
  active?: ReadonlySet<string>,
): Promise<LibvirtAnswer> {
  active ??= await activeDomains(ref.uri);
  if (!active.has(ref.uuid.toLowerCase())) return "gone";
  const r = await virsh(ref.uri, ["metadata", ref.uuid, METADATA_NS]);
  if (r.code !== 0) {
    // Gone between the two questions, or never had vmtools' metadata.
    return (await activeDomains(ref.uri)).has(ref.uuid.toLowerCase()) ? "other" : "gone";
  }
  const found = /\btoken=["']([0-9a-f]{32})["']/.exec(r.stdout)?.[1];
  return found === token ? "match" : "other";
}

/** The UUIDs of the domains active at `uri` (lower case). Throws a `VmError` when libvirt cannot be asked. */
export async function activeDomains(uri: string): Promise<Set<string>> {
  const r = await virsh(uri, ["list", "--uuid"]);
  if (r.code !== 0) throw virshError(uri, r.stderr);
  return new Set(r.stdout.split("\n").map((l) => l.trim().toLowerCase()).filter(Boolean));
}

/** Runs a QMP command in the domain's QEMU through libvirt; `undefined` when it fails. */
export async function qmp<T>(ref: LibvirtRef, command: string): Promise<T | undefined> {
  const r = await virsh(ref.uri, ["qemu-monitor-command", ref.uuid, JSON.stringify({ execute: command })]);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout).return as T;
  } catch {
    return undefined;
  }
}
