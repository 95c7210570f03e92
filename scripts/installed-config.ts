/**
 * Writes the deno.json an installed vmtools runs with: the project's, whose
 * "vmtools" permission set also denies writes to the given paths (the
 * installed program's own files). Deno checks a write against a path
 * prefix, before touching the file system, so the paths need not exist yet.
 * Usage: deno run --allow-read --allow-write scripts/installed-config.ts SOURCE TARGET PATH...
 * @module
 */
const [source, target, ...paths] = Deno.args;
if (!source || !target || paths.length === 0 || paths.some((p) => !p.startsWith("/"))) {
  console.error("usage: installed-config.ts SOURCE TARGET ABSOLUTE-PATH...");
  Deno.exit(2);
}
const config = JSON.parse(Deno.readTextFileSync(source));
const write = config.permissions?.vmtools?.write;
if (!Array.isArray(write?.deny)) {
  console.error(`${source}: permissions.vmtools.write has no "deny" list to add to`);
  Deno.exit(1);
}
write.deny = [...write.deny, ...paths];
Deno.writeTextFileSync(target, JSON.stringify(config, null, 2) + "\n");
