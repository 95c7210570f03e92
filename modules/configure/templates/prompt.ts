import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * Lets the user choose templates for a new VM among those installed, each
 * shown with its description; several may be chosen, none is proposed (so
 * `-y` applies none). Bare boots are not asked.
 */
export default async function prompt(
  { bare, templates, chooseSeveral, addTemplate }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const offered = templates();
  if (!offered.length) return;
  const width = Math.max(...offered.map((t) => t.name.length));
  const chosen = await chooseSeveral(
    "Templates to apply",
    offered.map((t) => ({
      value: t.name,
      label: t.description ? `${t.name.padEnd(width)}  ${t.description}` : t.name,
    })),
    [],
  );
  for (const name of chosen) addTemplate(name);
}
