import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * Shared folders (`vm_shareN_path`, any N): each host directory is offered
 * to the guest through 9p (`-virtfs`, a virtio-9p device), under its mount
 * tag, read-only when the share or `vm_storage_rwmode` says so. With `-v`,
 * the command that mounts it in a Linux guest.
 */
export default function share({ qemu, storage, log }: BuildcmdContext): void {
  for (const s of storage.shares()) {
    const opts = [
      "local",
      `path=${storage.escape(s.path)}`,
      `mount_tag=${s.tag}`,
      `security_model=${s.security}`,
      `id=${s.name}`,
      // One guest file system for a tree that spans host file systems: no inode collisions.
      "multidevs=remap",
    ];
    if (s.access === "ro") opts.push("readonly=on");
    qemu.add("-virtfs", opts.join(","));
    log.step(
      `${s.name}: ${s.path} (${s.access === "ro" ? "read-only" : "read-write"}); in the guest: ${s.mount}`,
    );
  }
}
