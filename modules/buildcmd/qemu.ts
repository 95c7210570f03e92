import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** The QEMU sandbox: no spawning programs, no new privileges, no obsolete system calls. */
const SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

/** Layers a user controls outside any VM home: only they may turn the sandbox off. */
const TRUSTED_LAYERS = ["default", "share", "system", "user", "cmdline"];

/**
 * Names the QEMU program, picks the accelerator and machine, and adds the
 * user's extra parameters, the pid file and QEMU's seccomp sandbox. `auto`
 * asks QEMU for KVM and lets it fall back to TCG when /dev/kvm cannot be
 * used. vmtools starts QEMU in the background itself, so `-daemonize` (which
 * the sandbox forbids) is dropped from the extra parameters.
 */
export default function qemu({ settings, qemu, files, log }: BuildcmdContext): void {
  qemu.binary = settings.get("cfg_qemu_cmdprefix") + settings.get("vm_qemu_arch");
  const accel = settings.get("vm_qemu_accel") || "auto";
  if (!["auto", "kvm", "tcg"].includes(accel)) {
    throw new Error(`vm_qemu_accel='${accel}': expected auto, kvm or tcg`);
  }
  const machine = settings.get("vm_qemu_machine");
  if (machine) qemu.add("-machine", machine);
  if (accel === "tcg") qemu.add("-accel", "tcg");
  else if (accel === "kvm") qemu.add("-accel", "kvm");
  else qemu.add("-accel", "kvm", "-accel", "tcg");
  for (const param of settings.list("vm_qemu_params")) {
    if (param === "-daemonize") {
      log.debug("vm_qemu_params: -daemonize dropped (vmtools backgrounds QEMU itself)");
    } else qemu.add(param);
  }
  qemu.add("-pidfile", files.pid);
  if (sandboxed(settings, log)) qemu.add("-sandbox", SANDBOX);
}

/** Whether QEMU runs sandboxed: a VM's own settings (or its parents' or templates) cannot say no. */
function sandboxed(settings: BuildcmdContext["settings"], log: BuildcmdContext["log"]): boolean {
  if (settings.bool("vm_qemu_sandbox")) return true;
  const layer = settings.origin("vm_qemu_sandbox")?.layer ?? "default";
  if (TRUSTED_LAYERS.includes(layer)) return false;
  log.warn(
    "vm_qemu_sandbox=no is ignored: a VM's own settings cannot turn off QEMU's sandbox " +
      "(give -o vm_qemu_sandbox=no, or set it in your vmtools.conf)",
  );
  return true;
}
