/**
 * Creating a VM home: a settings file that records only what differs from
 * what the VM inherits, plus any disk the configure modules made.
 * @module
 */
import { VmError } from "../errors.ts";
import { resolve } from "../path.ts";
import {
  addTemplates,
  assignments,
  formatSettings,
  parseSettings,
  type SettingsFile,
  setValue,
  writeFileAtomic,
} from "../settings/file.ts";
import { resolveSettings } from "../settings/resolve.ts";
import { inspectStorage, isCdrom, type StorageRef } from "../storage/inspect.ts";
import { undoOnInterrupt } from "../ui/interrupt.ts";
import { currentUser } from "../users.ts";
import type { Toolbox } from "../toolbox.ts";
import { configure } from "./configure.ts";
import { isVmHome } from "./home.ts";
import { absoluteStorage, type UpOptions } from "./up.ts";

/** Creates a VM at `home` (made when missing; it must not hold a VM yet). */
export async function createVm(
  homeArg: string,
  opts: UpOptions,
  tools: Toolbox,
): Promise<string> {
  const home = resolve(homeArg);
  const tool =
    resolveSettings({ roots: tools.roots, overrides: [...opts.overrides, ...opts.runOnly] }).settings;
  const settingsName = tool.get("cfg_file_vmsettings");
  if (isVmHome(home, settingsName)) {
    throw new VmError(`${homeArg}: already holds a VM`);
  }
  const refs = [...opts.disks, ...opts.cdroms].map((s) => inspectStorage(s));
  let made = false;
  try {
    Deno.statSync(home);
  } catch {
    Deno.mkdirSync(home, { recursive: true });
    made = true;
  }
  const before = new Set(listFiles(home));
  const rollback = () => {
    if (made) Deno.removeSync(home, { recursive: true });
    else {for (const f of listFiles(home).filter((f) => !before.has(f))) {
        Deno.removeSync(`${home}/${f}`, { recursive: true });
      }}
  };
  try {
    return await undoOnInterrupt(
      rollback,
      () => writeNewVm(home, settingsName, refs, opts, tools),
    );
  } catch (e) {
    rollback();
    throw e;
  }
}

async function writeNewVm(
  home: string,
  settingsName: string,
  refs: StorageRef[],
  opts: UpOptions,
  tools: Toolbox,
): Promise<string> {
  const file = newSettingsFile(`${home}/${settingsName}`, "initial creation");
  addTemplates(file, opts.templates);
  for (const [k, v] of opts.overrides) {
    if (k.startsWith("vm_")) setValue(file, k, v);
  }
  const slots = { hdd: 0, cdrom: 0 };
  [...opts.disks, ...opts.cdroms].forEach((spec, i) => {
    const kind = i >= opts.disks.length || isCdrom(refs[i]) ? "cdrom" : "hdd";
    const n = ++slots[kind];
    if (n > 2) {
      throw new VmError(
        `too many ${kind === "hdd" ? "disks" : "CD-ROMs"}: '${spec}' has no free slot`,
      );
    }
    setValue(file, `vm_storage_${kind}${n}_enable`, "yes");
    setValue(file, `vm_storage_${kind}${n}_backend`, absoluteStorage(spec));
  });
  if (opts.bootFrom) setValue(file, "vm_boot_order", opts.bootFrom);
  const cfgOverrides = [...opts.overrides.filter(([k]) => k.startsWith("cfg_")), ...opts.runOnly];
  const resolveFile = (f: SettingsFile) =>
    resolveSettings({
      roots: tools.roots,
      home,
      file: f,
      overrides: cfgOverrides,
    }).settings;
  await configure({
    file,
    dir: home,
    bare: false,
    disks: refs.slice(0, opts.disks.length),
    cdroms: refs.slice(opts.disks.length),
    resolve: resolveFile,
    tools,
  });
  keepOnlyDifferences(file, resolveFile);
  writeFileAtomic(file.path, formatSettings(file));
  tools.log.info(`created VM ${home}`);
  return home;
}

/** A settings file with the customary header comment. */
export function newSettingsFile(path: string, origin: string): SettingsFile {
  const user = currentUser();
  const header = `# ${new Date().toISOString().slice(0, 19).replace("T", " ")} by ${user}: ${origin}\n`;
  return parseSettings(header, path, "vm");
}

/** Drops values equal to what the VM would inherit, and never stores `*_createsize`. */
function keepOnlyDifferences(
  file: SettingsFile,
  resolveFile: (f: SettingsFile) => { get(n: string): string },
): void {
  const bare = { ...file, lines: file.lines.filter((l) => l.kind !== "set") };
  const inherited = resolveFile(bare);
  for (const [name, value] of assignments(file)) {
    if (name.endsWith("_createsize") || inherited.get(name) === value) {
      setValue(file, name, undefined);
    }
  }
}

function listFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name);
}
