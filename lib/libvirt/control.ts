/**
 * Stopping a VM under libvirt the way `vmdown` stops its own QEMUs: the
 * power button (`virsh shutdown --mode acpi`), a SIGTERM (`virsh destroy
 * --graceful`) and, by force, `virsh destroy` (SIGTERM, then SIGKILL when
 * QEMU does not go within libvirt's grace period). A transient domain is
 * gone from libvirt once it stops: nothing stays defined.
 * @module
 */
import type { Method } from "../running/shutdown.ts";
import type { LibvirtRef } from "./state.ts";
import { virsh, virshError } from "./virsh.ts";

const ARGS: Record<Method, string[]> = {
  s: ["shutdown", "--mode", "acpi"],
  t: ["destroy", "--graceful"],
  k: ["destroy"],
};

/** Applies `method` to the domain of `ref`; returns why it failed, or `undefined`. */
export async function stopDomain(ref: LibvirtRef, method: Method): Promise<string | undefined> {
  const r = await virsh(ref.uri, [...ARGS[method], ref.uuid]);
  return r.code === 0 ? undefined : virshError(ref.uri, r.stderr).message;
}
