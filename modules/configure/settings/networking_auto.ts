import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * Offers a first network interface; a kept VM gets a fixed random MAC so its
 * guest sees the same card at every boot.
 */
export default async function networkingAuto(
  ctx: ConfigureContext,
): Promise<void> {
  const { settings, set, confirm, bare, randomMac } = ctx;
  if (settings.bool("vm_networking_iface1_enable")) return;
  if (!bare && !await confirm("Enable network interface 1", true)) return;
  set("vm_networking_iface1_enable", "yes");
  if (!bare) {
    set(
      "vm_networking_iface1_mac",
      randomMac(settings.get("vm_networking_default_mac")),
    );
  }
}
