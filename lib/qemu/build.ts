/**
 * Builds the QEMU command line by running the `cfg_modules_buildcmd`
 * modules in order over one shared context.
 * @module
 */
import { VmError } from "../errors.ts";
import { randomMac } from "../mac.ts";
import type { BuildcmdContext, BuildcmdModule, HostInfo, VmFiles } from "../modules/api.ts";
import { moduleLog, storageTools } from "../modules/context.ts";
import { type ModuleLoader, runModule } from "../modules/loader.ts";
import type { Settings } from "../settings/settings.ts";
import type { StorageFacts } from "../storage/preflight.ts";
import type { Logger } from "../ui/log.ts";
import { QemuCommandLine } from "./command.ts";
import { readFirmwareDescriptors } from "./firmware.ts";
import { removeQuietly } from "../remove.ts";

/** A built command and the temporary files QEMU needs only until it has opened them. */
export interface BuiltCommand {
  /** The QEMU program, as the `qemu` module names it (`cfg_qemu_cmdprefix` + `vm_qemu_arch`). */
  binary: string;
  /** Its arguments, in the order the modules added them. */
  args: string[];
  /** Files to delete once QEMU runs (ISOs made from directories). */
  transient: string[];
}

/** Runs the buildcmd modules and returns the command. */
export async function buildCommand(
  settings: Settings,
  files: VmFiles,
  host: HostInfo,
  loader: ModuleLoader,
  log: Logger,
  /** What the storage checks before the start found (see `storage/preflight.ts`). */
  facts?: StorageFacts,
): Promise<BuiltCommand> {
  const qemu = new QemuCommandLine();
  const transient: string[] = [];
  const ctx = buildcmdContext(settings, files, host, log, qemu, transient, facts);
  const modules = await loader.load<BuildcmdModule>(
    "buildcmd",
    settings.list("cfg_modules_buildcmd"),
    "cfg_modules_buildcmd",
  );
  // Here every layer of the VM's settings is known, and so are the names
  // its modules declare.
  await loader.warnUnknownSettings(settings, log);
  try {
    for (const m of modules) {
      log.debug(`buildcmd module ${m.name} (${m.source})`);
      await runModule(m, ctx);
    }
  } catch (e) {
    for (const f of transient) removeQuietly(f);
    throw e;
  }
  if (!qemu.binary) {
    throw new VmError(
      "no module named the QEMU program (the 'qemu' module must be in cfg_modules_buildcmd)",
    );
  }
  return { binary: qemu.binary, args: qemu.args, transient };
}

/**
 * The context buildcmd modules get, around the command `qemu`; ISOs made
 * from directories are listed in `transient`.
 */
export function buildcmdContext(
  settings: Settings,
  files: VmFiles,
  host: HostInfo,
  log: Logger,
  qemu: QemuCommandLine,
  transient: string[],
  /** What the storage checks before the start found (see `storage/preflight.ts`). */
  facts?: StorageFacts,
): BuildcmdContext {
  return {
    settings,
    qemu,
    files,
    host,
    storage: storageTools(settings, settings.get("vm_home") || files.dir, log, transient, facts),
    firmware: { descriptors: () => readFirmwareDescriptors(settings.list("cfg_qemu_firmwaredirs"), log) },
    randomMac,
    log: moduleLog(log),
  };
}
