import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * vCPU count and model. `host` needs KVM, so unless KVM is forced
 * (`vm_qemu_accel=kvm`) `max` stands in: the host's features under KVM,
 * everything TCG emulates otherwise.
 */
export default function cpu({ settings, qemu, log }: BuildcmdContext): void {
  qemu.add("-smp", String(settings.int("vm_cpu_count")));
  let type = settings.get("vm_cpu_type");
  if (type === "host" && settings.get("vm_qemu_accel") !== "kvm") {
    log.debug("vm_cpu_type=host needs KVM: using 'max'");
    type = "max";
  }
  if (type) qemu.add("-cpu", type);
}
