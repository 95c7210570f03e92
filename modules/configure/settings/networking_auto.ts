import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * Offers a first network interface, proposing yes unless the VM inherits
 * `vm_networking_iface1_enable=no` (an imported machine without network
 * adapters proposes that); a bare boot takes the proposal unasked. A kept
 * VM gets a fixed MAC so its guest sees the same card at every boot: the
 * one its own settings already hold (an imported machine's), else a
 * random one.
 */
export default async function networkingAuto(
  ctx: ConfigureContext,
): Promise<void> {
  const { settings, set, confirm, bare, randomMac } = ctx;
  if (settings.bool("vm_networking_iface1_enable")) return;
  const proposal = settings.get("vm_networking_iface1_enable") !== "no";
  if (!(bare ? proposal : await confirm("Enable network interface 1", proposal))) return;
  set("vm_networking_iface1_enable", "yes");
  if (!bare) {
    const own = settings.origin("vm_networking_iface1_mac")?.layer === "vm" &&
      settings.get("vm_networking_iface1_mac");
    set("vm_networking_iface1_mac", own || randomMac(settings.get("vm_networking_default_mac")));
  }
}
