import type { ConfigureContext } from "../../../lib/modules/api.ts";

/** Asks for the guest memory size (kept as inherited for bare boots). */
export default async function ramSize(
  { settings, set, askSize, bare }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const inherited = settings.get("vm_ram_size");
  const answer = await askSize("Memory size", "vm_ram_size", inherited);
  // The proposal is taken unchecked when answers are assumed (-y): check it
  // here, naming where it comes from.
  if (answer === inherited) settings.size("vm_ram_size");
  set("vm_ram_size", answer.toUpperCase());
}
