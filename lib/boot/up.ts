/**
 * Starting VMs: a VM home, or anything bootable given as a path (a bare
 * boot, configured on the fly in a private runtime directory).
 * @module
 */
import { VmError } from "../errors.ts";
import { probeHost } from "../host.ts";
import type { HostInfo, VmFiles } from "../modules/api.ts";
import { ModuleLoader } from "../modules/loader.ts";
import { basename, dirname, resolve } from "../path.ts";
import { buildCommand } from "../qemu/build.ts";
import { formatCommand, launchForeground } from "../qemu/launch.ts";
import {
  assignments,
  parseSettings,
  readSettingsFile,
  saveFile,
  type SettingsFile,
  setValue,
} from "../settings/file.ts";
import { resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { type Access, isCdrom, parseAccess, splitPrefix, stricter } from "../storage/inspect.ts";
import type { Toolbox } from "../toolbox.ts";
import { withChange } from "../change/change.ts";
import { recoverChanges } from "../change/recover.ts";
import { configure } from "./configure.ts";
import { vmFiles } from "../home/files.ts";
import { makeRuntimeDir } from "../running/runtime_dir.ts";
import { sweepRuntimeDirs } from "../running/sweep.ts";
import { acquireLock } from "../home/lock.ts";
import { newToken, recordedOutputs, runningFrom, writeRecord } from "../running/record.ts";
import { SLOTS } from "../storage/drives.ts";
import { checkStorage, checkUsable, inspectAndLook, StorageFacts } from "../storage/preflight.ts";
import { shareNumbers } from "../storage/shares.ts";
import { isVmHome, VmHome } from "../home/home.ts";
import { removeQuietly } from "../remove.ts";
import { formatForward, type Forward, forwardError } from "../qemu/forwards.ts";
import { learnForwards, serialOutputs } from "./learn.ts";
import { clearRuntimeFiles, displayOf, imageInUse, imagesOf, launchWithDisplayRetries } from "./start.ts";
import type { LibvirtRef } from "../libvirt/state.ts";
import { leftovers } from "../home/leftovers.ts";

/** What the user asked `vmup` (or `vmcreate`, after creating) to do. */
export interface UpOptions {
  /** Disks given with `-C` and `-c`, in that order: vmup attaches them for this run, vmcreate stores them. */
  disks: string[];
  /** CD-ROMs given with `-D` and `-d`, in that order, kept as `disks` are. */
  cdroms: string[];
  /** Directories given with `-S` (`ro:` prefix for read-only): shared with the guest for this run. */
  shares?: string[];
  /** Boot from disk (`-C`) or CD-ROM (`-D`). */
  bootFrom?: "c" | "d";
  /** Templates given with `-t`: vmup applies them for this run, vmcreate stores them. */
  templates: string[];
  /** `-o` values (vmcreate stores those for VMs). */
  overrides: [string, string][];
  /** Values of flags such as `-b` and `-z`: for this run only, never stored. */
  runOnly: [string, string][];
  /** `-s` or `-r`: the strictest disk access this run allows. */
  accessCap?: Access;
  /** `-i`: QEMU in the foreground with its monitor on this terminal (`vm_qemu_daemonize=no` for the run). */
  interactive: boolean;
  /** `-n`: vmup prints the QEMU command instead of running it; vmcreate creates without starting. */
  noBoot: boolean;
  /** `--libvirt[=URI]`: run the VM home as a libvirt domain (`""`: the default URI). */
  libvirt?: string;
  /** The caller waits on the guest's serial log (`--wait`): a VM that would have none is refused before it starts. */
  wait?: boolean;
}

/** A started (or, with `-n`, prepared) VM. */
export interface UpResult {
  /** The VM's `vm_name`. */
  name: string;
  /** QEMU's process id; absent when not started (`-n`), run in the foreground, or under libvirt elsewhere. */
  pid?: number;
  /** `vnc://…`, `spice://…`, a window type, or `none`. */
  display?: string;
  /** Its directory and runtime files (pid file, sockets, serial log, record). */
  files: VmFiles;
  /** QEMU's exit status in the foreground. */
  exitCode?: number;
  /** Its serial console socket, `null` when vmtools serves none. */
  serial?: string | null;
  /** The file its serial output goes to, `null` when none. */
  log?: string | null;
  /** The port forwards QEMU set up. */
  forwards?: Forward[];
  /** For a VM running under libvirt (`--libvirt`): where, and as which domain. */
  libvirt?: LibvirtRef;
}

/** Settings files cannot hold a line break or NUL, so storage named with one can be neither kept nor booted. */
export function checkStorable(path: string): void {
  if (/[\n\r\0]/.test(path)) {
    throw new VmError(
      `${
        JSON.stringify(path)
      }: a path with a newline, carriage return or NUL character cannot be used; rename it`,
    );
  }
}

/** Makes a storage argument independent of the current directory. */
export function absoluteStorage(spec: string): string {
  const [prefix, location] = splitPrefix(spec);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return spec;
  return (prefix ? `${prefix}:` : "") + resolve(location);
}

/** Starts the VM home or bootable thing at `path`. */
export async function up(
  path: string,
  opts: UpOptions,
  tools: Toolbox,
  host = probeHost(),
): Promise<UpResult> {
  const tool =
    resolveSettings({ roots: tools.roots, overrides: [...opts.overrides, ...opts.runOnly] }).settings;
  const abs = resolve(path);
  if (isVmHome(abs, tool.get("cfg_file_vmsettings"))) return await upHome(abs, opts, tools, host, tool);
  return await upBare(path, opts, tools, host, tool);
}

async function upHome(
  home: string,
  opts: UpOptions,
  tools: Toolbox,
  host: HostInfo,
  tool: Settings,
): Promise<UpResult> {
  // Lock first: what a killed command left half done is undone before the settings are read.
  const lock = await acquireLock(`${home}/${tool.get("cfg_file_lock")}`, tool.int("cfg_limit_waitlock"));
  try {
    await recoverChanges(home, tool.get("cfg_file_tmpdir"), tools.log);
    const { settings } = resolveSettings({
      roots: tools.roots,
      home,
      templates: opts.templates,
      overrides: [...opts.overrides, ...opts.runOnly],
    });
    attachExtra(settings, opts);
    if (
      new VmHome(home, settings).hasChildren() &&
      (settings.get("vm_storage_rwmode") || "rw") === "rw"
    ) {
      throw new VmError(
        `${home}: this VM has children whose disks build on its own; start it with -s (snapshot) or -r (read-only)`,
      );
    }
    const result = await boot(settings, vmFiles(home, settings), opts, tools, host);
    if (!opts.noBoot && (result.pid !== undefined || result.exitCode === 0)) {
      await clearBootOnce(`${home}/${tool.get("cfg_file_vmsettings")}`, tool, tools);
    }
    return result;
  } finally {
    lock.release();
  }
}

/** A first boot device (`vm_boot_once`, set by `vmcreate -D`) is used once: the VM has now started with it. */
async function clearBootOnce(path: string, tool: Settings, tools: Toolbox): Promise<void> {
  const file = readSettingsFile(path, "vm");
  if (!assignments(file).some(([name]) => name === "vm_boot_once")) return;
  await withChange(
    dirname(path),
    { pattern: tool.get("cfg_file_tmpdir"), label: `vmup: clear vm_boot_once in ${path}`, log: tools.log },
    (change) => {
      change.keep(path);
      setValue(file, "vm_boot_once", undefined);
      saveFile(file);
      return Promise.resolve();
    },
  );
  tools.log.debug(`${path}: vm_boot_once removed (the first boot is done)`);
}

async function upBare(
  path: string,
  opts: UpOptions,
  tools: Toolbox,
  host: HostInfo,
  tool: Settings,
): Promise<UpResult> {
  checkStorable(path);
  if (opts.libvirt !== undefined) {
    throw new VmError(`${path}: not a VM home; --libvirt starts VM homes only (make one with vmcreate -n)`);
  }
  // A URL is looked at now: its content decides between a disk and a CD-ROM drive.
  const facts = new StorageFacts();
  const ref = await inspectAndLook(path, facts, tools.log);
  // What no setting changes is checked before anything is asked or made.
  await checkUsable(isCdrom(ref) ? "cdrom1" : "hdd1", ref, facts, tools.log);
  if (ref.location.kind === "dir") {
    // A directory given where a VM home was likely meant: say what happens instead.
    tools.log.info(
      `${path}: no ${tool.get("cfg_file_vmsettings")} here: booting the directory as a FAT disk`,
    );
  }
  await sweepRuntimeDirs(tool, tools.log);
  const dir = makeRuntimeDir(basename(path));
  try {
    const file = parseSettings("", `${dir}/vm.settings`, "vm");
    const cdrom = isCdrom(ref);
    setValue(
      file,
      "vm_name",
      basename(
        resolve(ref.location.kind === "url" ? path.replace(/\/+$/, "") : path),
      ),
    );
    setValue(file, `vm_storage_${cdrom ? "cdrom" : "hdd"}1_enable`, "yes");
    setValue(
      file,
      `vm_storage_${cdrom ? "cdrom" : "hdd"}1_backend`,
      absoluteStorage(path),
    );
    setValue(file, "vm_boot_order", cdrom ? "d" : "c");
    const resolveFile = (f: SettingsFile) =>
      resolveSettings({
        roots: tools.roots,
        home: dir,
        file: f,
        templates: opts.templates,
        overrides: [...opts.overrides, ...opts.runOnly],
      })
        .settings;
    // Conversions beside the image outlive the boot; the change undoes them on failure.
    const settings = await withChange(
      dir,
      { pattern: tool.get("cfg_file_tmpdir"), label: `vmup ${path}`, log: tools.log },
      (change) =>
        configure({
          change,
          file,
          dir,
          bare: true,
          disks: cdrom ? [] : [ref],
          cdroms: cdrom ? [ref] : [],
          resolve: resolveFile,
          tools,
        }),
    );
    settings.set("vm_home", "");
    attachExtra(settings, opts);
    const source = splitPrefix(absoluteStorage(path))[1];
    const result = await boot(settings, vmFiles(dir, settings), opts, tools, host, source, facts);
    if (opts.noBoot || opts.interactive) removeQuietly(dir, true);
    return result;
  } catch (e) {
    removeQuietly(dir, true);
    throw e;
  }
}

/** Adds `-c`/`-d` storage, `-S` shares and `-C`/`-D` boot order for this run only. */
function attachExtra(settings: Settings, opts: UpOptions): void {
  const cmdline = { layer: "cmdline" as const };
  const attach = (kind: "hdd" | "cdrom", spec: string) => {
    const slot = SLOTS.find((n) => !settings.bool(`vm_storage_${kind}${n}_enable`));
    if (slot === undefined) {
      throw new VmError(
        `no free ${kind === "hdd" ? "hard disk" : "CD-ROM"} slot for '${spec}'`,
      );
    }
    settings.set(`vm_storage_${kind}${slot}_enable`, "yes", cmdline);
    settings.set(
      `vm_storage_${kind}${slot}_backend`,
      absoluteStorage(spec),
      cmdline,
    );
  };
  for (const d of opts.disks) attach("hdd", d);
  for (const d of opts.cdroms) attach("cdrom", d);
  for (const dir of opts.shares ?? []) {
    const taken = new Set(shareNumbers(settings));
    let n = 1;
    while (taken.has(n)) n++;
    settings.set(`vm_share${n}_path`, absoluteStorage(dir), { layer: "cmdline", source: "-S" });
  }
  if (opts.bootFrom) settings.set("vm_boot_order", opts.bootFrom, cmdline);
  if (opts.accessCap) {
    const current = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
    settings.set("vm_storage_rwmode", stricter(current, opts.accessCap), cmdline);
  }
  if (opts.interactive) settings.set("vm_qemu_daemonize", "no", cmdline);
}

async function boot(
  settings: Settings,
  files: VmFiles,
  opts: UpOptions,
  tools: Toolbox,
  host: HostInfo,
  /** For a bare boot, what is booted (absolute), recorded so that vmdown can be given it. */
  source?: string,
  facts = new StorageFacts(),
): Promise<UpResult> {
  const { log } = tools;
  const name = settings.get("vm_name");
  checkSocketPaths(files);
  // What a killed command left (the home is locked: no other command is writing it).
  for (const file of leftovers(files.dir)) {
    removeQuietly(file);
    log.debug(`removed ${file}, left by a command that was cut short`);
  }
  const running = await runningFrom(files, settings.get("cfg_qemu_cmdprefix"));
  if (running) {
    // Starting is idempotent, so `vmcreate … && vmup …` and retrying scripts just work.
    const { pid, display, forwards, libvirt } = running.record;
    const how = [pid !== undefined && `pid ${pid}`, libvirt && `under libvirt at ${libvirt.uri}`].filter(
      Boolean,
    );
    log.at(0, `${name}: already running (${how.join(", ")}), not started again`);
    return { name, pid, display, files, ...recordedOutputs(running.record, files), forwards, libvirt };
  }
  if (opts.libvirt !== undefined) {
    const { upLibvirt } = await import("../libvirt/up.ts");
    return await upLibvirt(settings, files, opts, tools, {
      clear: () => clearRuntimeFiles(files),
      images: () => imagesOf(settings, files.dir),
    });
  }
  const loader = new ModuleLoader(
    tools.roots,
    settings.bool("cfg_include_userhome"),
    tools.builtins,
  );
  await checkStorage(settings, settings.get("vm_home") || files.dir, facts, log);
  const cmd = await buildCommand(settings, files, host, loader, log, facts);
  if (opts.noBoot) {
    for (const f of cmd.transient) removeQuietly(f);
    // The command is the data `vmup -n` produces: one line on stdout, ready to paste into a shell.
    log.output.out(`${formatCommand(cmd)}\n`);
    log.step(`${name}: would run ${formatCommand(cmd)}`);
    return { name, files };
  }
  const outputs = serialOutputs(cmd.args, files);
  if (opts.wait && !outputs.log) {
    for (const f of cmd.transient) removeQuietly(f);
    const params = settings.list("vm_qemu_params");
    const i = params.indexOf("-serial");
    const why = i >= 0
      ? `vm_qemu_params take the serial port: -serial ${params[i + 1]}`
      : "vm_serial_mode=none";
    throw new VmError(`${name}: no serial log to wait on (${why}); not started`);
  }
  clearRuntimeFiles(files);
  const token = newToken();
  const bare = !settings.get("vm_home");
  const images = imagesOf(settings, files.dir);
  const record = (pid: number, started: number, display: string, forwards: Forward[] = []) =>
    writeRecord(files, {
      token,
      pid,
      started,
      name,
      display,
      dir: files.dir,
      bare,
      source,
      images,
      ...outputs,
      forwards,
    });
  if (!settings.bool("vm_qemu_daemonize")) {
    log.info(
      `${name}: starting in the foreground; the QEMU monitor is on this terminal`,
    );
    try {
      const exitCode = await launchForeground(cmd, token, log, (pid, started) => record(pid, started, "?"));
      return { name, files, exitCode };
    } finally {
      clearRuntimeFiles(files);
    }
  }
  const launching = launchWithDisplayRetries(cmd, settings, files, host, loader, tools, token, facts);
  const { args, launched } = await launching.catch(async (e) => {
    throw (await imageInUse(e, settings)) ?? forwardError(e, settings) ?? e;
  });
  let display: string;
  let forwards: Forward[];
  try {
    display = await displayOf(args, launched.qmp);
    forwards = await learnForwards(args, launched.qmp);
  } finally {
    launched.qmp.close();
  }
  record(launched.pid, launched.started, display, forwards);
  const where = bare ? `, files in ${files.dir}` : "";
  log.at(0, `${name}: running (pid ${launched.pid}), display ${display}${where}`);
  for (const f of forwards) log.at(0, `${name}: port forward ${formatForward(f)}`);
  return { name, pid: launched.pid, display, files, ...outputs, forwards };
}

/** The kernel limits unix socket paths (sun_path) to 107 bytes. */
export function checkSocketPaths(files: VmFiles): void {
  for (const socket of [files.monitor, files.serial]) {
    const bytes = new TextEncoder().encode(socket).length;
    if (bytes > 107) {
      throw new VmError(
        `${socket}: too long for a unix socket (${bytes} bytes, at most 107); use a shorter path`,
      );
    }
  }
}
