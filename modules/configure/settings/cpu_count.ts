import type { ConfigureContext } from "../../../lib/modules/api.ts";

/** Asks for the number of virtual CPUs (kept as inherited for bare boots). */
export default async function cpuCount(
  { settings, set, askNumber, bare }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const answer = await askNumber("Number of virtual CPUs", settings.int("vm_cpu_count"), { min: 1 });
  set("vm_cpu_count", String(answer));
}
