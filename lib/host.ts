/**
 * Facts about the host that change how a VM is started. Whether KVM works
 * is left to QEMU (`-accel kvm -accel tcg` falls back by itself): Deno lets
 * no program without full permissions open or even stat `/dev/kvm`.
 * @module
 */
import type { HostInfo } from "./modules/api.ts";

/** Probes the host once. */
export function probeHost(): HostInfo {
  return {
    graphical: Boolean(
      Deno.env.get("DISPLAY") || Deno.env.get("WAYLAND_DISPLAY"),
    ),
  };
}
