import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * Names the QEMU program, picks the accelerator and machine, and adds the
 * user's extra parameters, the pid file and daemon mode. `auto` asks QEMU
 * for KVM and lets it fall back to TCG when /dev/kvm cannot be used.
 */
export default function qemu({ settings, qemu, files }: BuildcmdContext): void {
  qemu.binary = settings.get("cfg_qemu_cmdprefix") +
    settings.get("vm_qemu_arch");
  const accel = settings.get("vm_qemu_accel") || "auto";
  if (!["auto", "kvm", "tcg"].includes(accel)) {
    throw new Error(`vm_qemu_accel='${accel}': expected auto, kvm or tcg`);
  }
  const machine = settings.get("vm_qemu_machine");
  if (machine) qemu.add("-machine", machine);
  if (accel === "tcg") qemu.add("-accel", "tcg");
  else if (accel === "kvm") qemu.add("-accel", "kvm");
  else qemu.add("-accel", "kvm", "-accel", "tcg");
  // Not add(...list): spreading a long list as arguments overflows the stack.
  for (const param of settings.list("vm_qemu_params")) qemu.add(param);
  qemu.add("-pidfile", files.pid);
  if (settings.bool("vm_qemu_daemonize")) qemu.add("-daemonize");
}
