import type { ConfigureContext } from "../../../lib/modules/api.ts";

/** Asks for the guest memory size (kept as inherited for bare boots). */
export default async function ramSize(
  { settings, set, ask, bare }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const answer = await ask(
    "Memory size",
    settings.get("vm_ram_size"),
    (a) => /^\d+(\.\d+)?[MG]$/i.test(a) ? undefined : "a size such as 512M or 4G",
  );
  set("vm_ram_size", answer.toUpperCase());
}
