import type { CloneContext } from "../../lib/modules/api.ts";

/**
 * Gives every network interface of the new VM that has a fixed MAC address
 * a fresh one (same prefix as `vm_networking_default_mac`), so that a copy
 * and its source can share a network; `-k` keeps them. Interfaces without a
 * fixed address get a random one at each start anyway.
 */
export default function networkingIfaceMac(
  { settings, set, keepUnique, randomMac, log }: CloneContext,
): void {
  if (keepUnique) return;
  for (const [name, { value }] of settings.entries()) {
    const n = /^vm_networking_iface(\d+)_mac$/.exec(name)?.[1];
    if (n === undefined || value === "" || !settings.bool(`vm_networking_iface${n}_enable`)) continue;
    const mac = randomMac(settings.get("vm_networking_default_mac"));
    set(name, mac);
    log.debug(`iface${n}: MAC ${value} -> ${mac}`);
  }
}
