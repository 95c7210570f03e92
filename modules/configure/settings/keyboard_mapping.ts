import type { Choice, ConfigureContext } from "../../../lib/modules/api.ts";

/** Where QEMU installs its keymaps: Debian and most distributions, a source build, RHEL. */
const KEYMAP_DIRS = [
  "/usr/share/qemu/keymaps",
  "/usr/local/share/qemu/keymaps",
  "/usr/share/qemu-kvm/keymaps",
  "/opt/homebrew/share/qemu/keymaps",
];

/** Files of the keymaps directory that are not layouts. */
const INCLUDES = new Set(["common", "modifiers"]);

/**
 * Asks for the keyboard layout VNC and SPICE clients type with
 * (`vm_keyboard_mapping`, QEMU's `-k`), from the layouts in QEMU's keymaps
 * directory, proposing the inherited one (`-y` keeps it). Bare boots are
 * not asked; without a keymaps directory nothing is asked either.
 */
export default async function keyboardMapping(
  { settings, set, choose, bare, log }: ConfigureContext,
): Promise<void> {
  if (bare) return;
  const inherited = settings.get("vm_keyboard_mapping");
  const found = findKeymaps();
  if (!found) {
    log.warn(
      `no QEMU keymaps directory (looked in ${
        KEYMAP_DIRS.join(", ")
      }): vm_keyboard_mapping stays '${inherited}'`,
    );
    return;
  }
  const maps = found.maps.map((name) => [name, describe(`${found.dir}/${name}`)]);
  if (inherited && !found.maps.includes(inherited)) maps.push([inherited, `(not in ${found.dir})`]);
  const width = Math.max(...maps.map(([name]) => name.length));
  const choices: Choice[] = [
    {
      value: "",
      label: "(none)",
      description: "no -k: QEMU's default (en-us); the best for VNC clients that send key codes",
    },
    ...maps.map(([value, what]) => ({ value, label: `${value.padEnd(width)}  ${what}`.trimEnd() })),
  ];
  set("vm_keyboard_mapping", await choose("Keyboard layout", choices, inherited));
}

/** The first keymaps directory that holds layouts, and their names, sorted. */
function findKeymaps(): { dir: string; maps: string[] } | undefined {
  for (const dir of KEYMAP_DIRS) {
    const maps: string[] = [];
    try {
      for (const e of Deno.readDirSync(dir)) {
        // Older QEMUs keep include files beside the layouts.
        if (e.isFile && /^[a-z][a-z0-9_-]*$/.test(e.name) && !INCLUDES.has(e.name)) maps.push(e.name);
      }
    } catch {
      continue;
    }
    if (maps.length) return { dir, maps: maps.sort() };
  }
  return undefined;
}

/**
 * What a keymap is, from the header qemu-keymap writes (`# name: "German
 * (no dead keys)"`, else its layout and variant); "" without one.
 */
function describe(path: string): string {
  let head = "";
  try {
    const f = Deno.openSync(path);
    try {
      const buf = new Uint8Array(2048);
      head = new TextDecoder().decode(buf.subarray(0, f.readSync(buf) ?? 0));
    } finally {
      f.close();
    }
  } catch {
    return "";
  }
  const name = /^#\s*name:\s*"([^"\n]+)"/m.exec(head)?.[1];
  if (name) return name;
  const field = (key: string) => new RegExp(`^#\\s*${key}\\s*:\\s*([^\\s-]\\S*)`, "m").exec(head)?.[1];
  const layout = field("layout");
  const variant = field("variant");
  return layout ? `layout ${layout}${variant ? `, variant ${variant}` : ""}` : "";
}
