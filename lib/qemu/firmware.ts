/**
 * QEMU's firmware descriptors (`docs/interop/firmware.json` of QEMU): JSON
 * files that distributions install in `/usr/share/qemu/firmware` (Debian's
 * `ovmf` for x86 UEFI) to say which firmware image suits which machine.
 * vmtools reads them as QEMU's own tools do, from the directories of
 * `cfg_qemu_firmwaredirs`.
 * @module
 */
import type { FirmwareDescriptor } from "../modules/api.ts";
import type { WarningSink } from "../modules/loader.ts";

/**
 * The descriptors in `dirs`, in order of preference: a `*.json` file in a
 * later directory replaces the one of the same name in an earlier one (an
 * empty file just hides it), then they go by file name. A directory that
 * is missing holds none; a file that cannot be read or is not a
 * descriptor is skipped with a warning.
 */
export function readFirmwareDescriptors(
  dirs: readonly string[],
  log: WarningSink,
): FirmwareDescriptor[] {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.name.endsWith(".json") && !e.isDirectory) byName.set(e.name, `${dir}/${e.name}`);
    }
  }
  const out: FirmwareDescriptor[] = [];
  for (const name of [...byName.keys()].sort()) {
    const file = byName.get(name)!;
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      log.warn(`${file}: cannot read this firmware descriptor: ${(e as Error).message}`);
      continue;
    }
    if (text.trim() === "") continue;
    try {
      out.push(parseFirmwareDescriptor(file, JSON.parse(text)));
    } catch (e) {
      log.warn(`${file}: not a firmware descriptor (${(e as Error).message}); skipped`);
    }
  }
  return out;
}

/** Reads the parts of a parsed descriptor vmtools uses; throws on a wrong shape. */
export function parseFirmwareDescriptor(file: string, json: unknown): FirmwareDescriptor {
  const root = object(json, "the file");
  const mapping = object(root.mapping, "mapping");
  const descriptor: FirmwareDescriptor = {
    file,
    description: typeof root.description === "string" ? root.description : "",
    interfaceTypes: strings(root["interface-types"], "interface-types"),
    targets: array(root.targets, "targets").map((t, i) => {
      const target = object(t, `targets[${i}]`);
      return {
        architecture: string(target.architecture, `targets[${i}].architecture`),
        machines: strings(target.machines, `targets[${i}].machines`),
      };
    }),
    features: root.features === undefined ? [] : strings(root.features, "features"),
  };
  // Split flash (the default mode): a code image and a variable store template.
  if (mapping.device === "flash" && (mapping.mode ?? "split") === "split" && mapping["nvram-template"]) {
    descriptor.flash = {
      executable: image(mapping.executable, "mapping.executable"),
      nvramTemplate: image(mapping["nvram-template"], "mapping.nvram-template"),
    };
  }
  return descriptor;
}

function image(value: unknown, where: string): { filename: string; format: string } {
  const o = object(value, where);
  return {
    filename: string(o.filename, `${where}.filename`),
    format: o.format === undefined ? "raw" : string(o.format, `${where}.format`),
  };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: not an object`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: not a list`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== "string") throw new Error(`${where}: not a string`);
  return value;
}

function strings(value: unknown, where: string): string[] {
  return array(value, where).map((v, i) => string(v, `${where}[${i}]`));
}
