import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * One NIC and netdev per enabled `vm_networking_ifaceN_*` (any N), falling
 * back to the `vm_networking_default_*` values; no NIC at all when none is
 * enabled.
 */
export default function networking(
  { settings, qemu, randomMac }: BuildcmdContext,
): void {
  const ifaces = settings.entries()
    .map(([name]) => /^vm_networking_iface(\d+)_enable$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined && settings.bool(`vm_networking_iface${n}_enable`))
    .map(Number)
    .sort((a, b) => a - b);
  if (!ifaces.length) {
    qemu.add("-nic", "none");
    return;
  }
  for (const n of ifaces) {
    const pick = (what: string) =>
      settings.get(`vm_networking_iface${n}_${what}`) ||
      settings.get(`vm_networking_default_${what}`);
    const [type, ...options] = pick("mode").split(",");
    const [device, ...deviceOptions] = pick("device").split(",");
    const mac = randomMac(pick("mac"));
    qemu.add("-netdev", [type, `id=nd${n}`, ...options].join(","));
    qemu.add(
      "-device",
      [device, `mac=${mac}`, `netdev=nd${n}`, ...deviceOptions].join(","),
    );
  }
}
