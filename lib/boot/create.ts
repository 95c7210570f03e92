/**
 * Creating a VM home: a settings file that records only what differs from
 * what the VM inherits, plus any disk the configure modules made. The home
 * is locked before anything is looked at, so of several vmcreate of one home
 * exactly one creates it; everything is one change, undone on any error or
 * interruption and, after a kill, by the next command on that home.
 * @module
 */
import { type Change, withChange } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { warnUnknownSettings } from "../modules/loader.ts";
import { basename, resolve } from "../path.ts";
import { exists, isInside } from "../fs.ts";
import {
  addTemplates,
  formatSettings,
  type SettingsFile,
  setValue,
  writeFileAtomic,
} from "../settings/file.ts";
import { keepOnlyDifferences, newSettingsFile } from "../settings/new_file.ts";
import { resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { isCdrom, type StorageRef } from "../storage/inspect.ts";
import { inspectAndLook, StorageFacts } from "../storage/preflight.ts";
import type { Toolbox } from "../toolbox.ts";
import { configure } from "./configure.ts";
import { vmFiles } from "../home/files.ts";
import { claimNewHome } from "../home/claim.ts";
import { absoluteStorage, checkSocketPaths, type UpOptions } from "./up.ts";

/** Creates a VM at `home` (made when missing; it must not hold a VM yet). */
export async function createVm(
  homeArg: string,
  opts: UpOptions,
  tools: Toolbox,
): Promise<string> {
  const home = resolve(homeArg);
  const tool =
    resolveSettings({ roots: tools.roots, overrides: [...opts.overrides, ...opts.runOnly] }).settings;
  // Everything that can be checked is checked before anything is made.
  checkSocketPaths(vmFiles(home, tool));
  await warnUnknownSettings(tool, tools); // a misspelled -o name would be stored
  // URLs are looked at: their content decides between a disk and a CD-ROM drive, as a file's does.
  const facts = new StorageFacts();
  const refs: StorageRef[] = [];
  for (const spec of [...opts.disks, ...opts.cdroms]) refs.push(await inspectAndLook(spec, facts, tools.log));
  const claim = await claimNewHome(home, homeArg, tool, tools.log);
  let created = false;
  try {
    const pattern = tool.get("cfg_file_tmpdir");
    await withChange(home, { pattern, label: `vmcreate ${home}`, log: tools.log }, async (change) => {
      claim.adopt(change);
      await writeNewVm(change, home, tool, refs, opts, tools);
    });
    created = true;
    return home;
  } finally {
    claim.release(created);
  }
}

async function writeNewVm(
  change: Change,
  home: string,
  tool: Settings,
  refs: StorageRef[],
  opts: UpOptions,
  tools: Toolbox,
): Promise<void> {
  const settingsPath = `${home}/${tool.get("cfg_file_vmsettings")}`;
  const file = newSettingsFile(settingsPath, "initial creation");
  addTemplates(file, opts.templates);
  for (const [k, v] of opts.overrides) {
    if (k.startsWith("vm_")) {
      setValue(file, k, HOME_FILES.includes(k) ? copyIntoHome(change, home, k, v, tools) : v);
    }
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
  // -D is an installer: the CD-ROM boots once, the disk it installs to after that.
  if (opts.bootFrom === "d") setValue(file, "vm_boot_once", "d");
  else if (opts.bootFrom) setValue(file, "vm_boot_order", opts.bootFrom);
  const cfgOverrides = [...opts.overrides.filter(([k]) => k.startsWith("cfg_")), ...opts.runOnly];
  const resolveFile = (f: SettingsFile) =>
    resolveSettings({
      roots: tools.roots,
      home,
      file: f,
      overrides: cfgOverrides,
    }).settings;
  await configure({
    change,
    file,
    dir: home,
    bare: false,
    disks: refs.slice(0, opts.disks.length),
    cdroms: refs.slice(opts.disks.length),
    resolve: resolveFile,
    tools,
  });
  keepOnlyDifferences(file, resolveFile);
  change.create(settingsPath);
  writeFileAtomic(file.path, formatSettings(file));
  tools.log.info(`created VM ${home}`);
}

/** Settings naming files that a VM's own settings may name only inside its home (see the cloudinit module). */
const HOME_FILES = ["vm_cloudinit_userdata", "vm_cloudinit_metadata", "vm_cloudinit_networkconfig"];

/**
 * A file given with `-o` for one of {@linkcode HOME_FILES}: kept as given
 * when it is inside the new home (or not there: vmup will say so), else
 * copied in and named by its base name, so that the VM can start.
 */
function copyIntoHome(change: Change, home: string, name: string, value: string, tools: Toolbox): string {
  const source = resolve(value, home);
  let isFile = false;
  try {
    isFile = Deno.statSync(source).isFile;
  } catch { /* not there */ }
  if (!isFile || isInside(source, home)) return value;
  const target = `${home}/${basename(source)}`;
  if (exists(target)) throw new VmError(`${name}=${value}: cannot copy it into the new VM: ${target} exists`);
  change.create(target);
  Deno.copyFileSync(source, target);
  tools.log.info(`copied ${source} into the VM (${name}=${basename(source)})`);
  return basename(source);
}
