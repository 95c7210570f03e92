import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** vCPU count and model; `host` needs KVM, so without it `max` stands in. */
export default function cpu({ settings, qemu, log }: BuildcmdContext): void {
  qemu.add("-smp", String(settings.int("vm_cpu_count")));
  let type = settings.get("vm_cpu_type");
  if (type === "host" && qemu.valueOf("-accel") !== "kvm") {
    log.debug("vm_cpu_type=host needs KVM: using 'max'");
    type = "max";
  }
  if (type) qemu.add("-cpu", type);
}
