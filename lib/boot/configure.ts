/**
 * Configuring a new VM (or a bare boot): the `configure/templates` modules
 * pick templates, then the `configure/settings` modules fill in values,
 * asking the user where they need to.
 * @module
 */
import type { Change } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { randomMac } from "../mac.ts";
import type { ConfigureContext, ConfigureModule } from "../modules/api.ts";
import { ModuleLoader, runModule } from "../modules/loader.ts";
import { moduleLog, storageTools } from "../modules/context.ts";
import { addTemplates, type SettingsFile, setValue } from "../settings/file.ts";
import type { Settings } from "../settings/settings.ts";
import { readSize, toMiB } from "../settings/size.ts";
import { excerpt } from "../settings/syntax.ts";
import type { StorageRef } from "../storage/inspect.ts";
import { convertImage, createImage } from "../storage/qemuimg.ts";
import type { Toolbox } from "../toolbox.ts";
import { installedTemplates } from "../settings/installed_templates.ts";
import { importMachines } from "./import.ts";

/** A VM being configured. */
export interface ConfigureJob {
  /** The change that disks made or converted for it belong to. */
  change: Change;
  /** The new VM's settings file (in memory), which receives the values. */
  file: SettingsFile;
  /** Its home, or the runtime directory of a bare boot. */
  dir: string;
  /** True for `vmup` on a bare path (nothing is kept), false for `vmcreate`. */
  bare: boolean;
  /** Disks the user gave; machine descriptions (`.ova`, `.vmx`) are replaced by their disks on import. */
  disks: StorageRef[];
  /** CD-ROMs the user gave. */
  cdroms: StorageRef[];
  /** Computes the effective settings of `file`. */
  resolve(file: SettingsFile): Settings;
  /** The command's roots, log, prompter and built-in modules. */
  tools: Toolbox;
}

/**
 * Imports the machines described by `.ova` and `.vmx` disks (see
 * `import.ts`), then runs the configure modules; returns the final
 * effective settings.
 */
export async function configure(job: ConfigureJob): Promise<Settings> {
  const { tools, file } = job;
  await importMachines(job);
  let settings = job.resolve(file);
  const loader = new ModuleLoader(
    tools.roots,
    settings.bool("cfg_include_userhome"),
    tools.builtins,
  );
  const compress = settings.bool("vm_qemu_compress");
  const ctx: ConfigureContext = {
    get settings() {
      return settings;
    },
    set: (name, value) => {
      setValue(file, name, value);
      settings.set(name, value, { layer: "vm" });
    },
    addTemplate: (name) => {
      addTemplates(file, [name]);
      settings = job.resolve(file);
    },
    ask: (q, proposal, check) => tools.prompter.ask(q, proposal, check),
    confirm: (q, proposal) => tools.prompter.confirm(q, proposal),
    askNumber: (q, proposal, range) => tools.prompter.number(q, proposal, range),
    askSize: (q, name, proposal) => tools.prompter.ask(q, proposal, (a) => ctx.checkSize(name, a)),
    choose: (q, choices, proposal) => tools.prompter.choose(q, choices, proposal),
    chooseSeveral: (q, choices, proposal) => tools.prompter.chooseSeveral(q, choices, proposal),
    templates: () =>
      installedTemplates(
        tools.roots,
        settings.bool("cfg_include_userhome"),
        (msg) => tools.log.warn(msg),
      ),
    bare: job.bare,
    dir: job.dir,
    disks: job.disks,
    cdroms: job.cdroms,
    get storage() {
      return storageTools(settings, job.dir, tools.log, []);
    },
    assumeYes: tools.prompter.assumeYes,
    convert: async (source, target) => {
      await convertImage(job.change, source, target, tools.log, { compress });
      tools.log.info(`converted ${source} to ${target}`);
      return target;
    },
    createDisk: async (path, size) => {
      await createImage(job.change, path, size, tools.log);
      tools.log.info(`created ${size} disk ${path}`);
      return path;
    },
    checkSize: (name, text) => {
      const r = readSize(name, text);
      return "expected" in r ? r.expected : undefined;
    },
    sizeMiB: (name, text) => {
      const r = readSize(name, text);
      if ("reason" in r) throw new VmError(`${name}='${excerpt(text)}': ${r.reason}`);
      return toMiB(r.bytes);
    },
    randomMac,
    log: moduleLog(tools.log),
  };
  for (const family of ["configure/templates", "configure/settings"] as const) {
    const list = `cfg_modules_${family.replace("/", "_")}`;
    for (
      const m of await loader.load<ConfigureModule>(
        family,
        settings.list(list),
        list,
      )
    ) {
      tools.log.debug(`${family} module ${m.name} (${m.source})`);
      await runModule(m, ctx);
    }
  }
  return settings;
}
