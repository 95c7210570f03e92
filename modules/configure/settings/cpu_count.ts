import type { ConfigureContext } from "../../../lib/modules/api.ts";

/** Asks for the number of virtual CPUs (kept as inherited for bare boots). */
export default async function cpuCount(
  { settings, set, ask, bare }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const answer = await ask(
    "Number of virtual CPUs",
    settings.get("vm_cpu_count"),
    (a) => /^[1-9]\d*$/.test(a) ? undefined : "a whole number of at least 1",
  );
  set("vm_cpu_count", answer);
}
