/**
 * The contract between vmtools and its modules. A module is a TypeScript
 * file `NAME.ts` that default-exports one function; vmtools calls it with
 * one of the context objects below ({@linkcode BuildcmdContext},
 * {@linkcode ConfigureContext}). It may also export `reads`, the names of
 * the settings it reads ({@linkcode ModuleExports}). Modules import
 * nothing from vmtools at run time: everything comes in the context, so a
 * module written for one version keeps loading in the next.
 *
 * For editor help and `deno check`, import the types from the copy of this
 * file installed beside the program, with `import type`:
 *
 * ```ts
 * // ~/.config/vmtools/modules/buildcmd/ram.ts: 25% more RAM for every VM
 * import type { BuildcmdContext } from "/usr/local/lib/vmtools/lib/modules/api.ts";
 * export default function ram({ settings, qemu }: BuildcmdContext) {
 *   qemu.add("-m", `${Math.ceil(settings.size("vm_ram_size") / 2 ** 20 * 1.25)}M`);
 * }
 * ```
 *
 * (`PREFIX/lib/vmtools/lib/modules/api.ts` for `scripts/install PREFIX`;
 * `lib/modules/api.ts` of a source tree.) `import type` is erased before
 * the module runs, so the path is never looked up at run time and a
 * module loads the same whatever is installed where; measured with
 * `deno run` and the installed launcher (`--cached-only`), even with a
 * path that does not exist or an `npm:` or `https:` specifier. Write
 * `import type { … }`, not `import { type … }`: the latter is kept as an
 * import, and fails where the file is missing.
 * @module
 */
import type { Settings } from "../settings/settings.ts";
import type { Drive, DriveKind } from "../storage/drives.ts";
import type { Access, StorageRef } from "../storage/inspect.ts";
import type { Share } from "../storage/shares.ts";
import type { Choice } from "../ui/prompt.ts";

export type { Access, Choice, Drive, DriveKind, Settings, Share, StorageRef };
export type { Entry, Layer, Origin } from "../settings/settings.ts";
export type { ImageFormat, Location } from "../storage/inspect.ts";

/** The module families and their folders under `modules/`. */
export type Family =
  | "buildcmd"
  | "clone"
  | "configure/templates"
  | "configure/settings";

/** Messages from a module, filtered by the user's verbosity. */
export interface ModuleLog {
  /** What was created or changed (verbosity ≥ 1). */
  info(msg: string): void;
  /** A main step (verbosity ≥ 3). */
  step(msg: string): void;
  /** A detail (verbosity ≥ 4). */
  debug(msg: string): void;
  /** Something the user should know about. */
  warn(msg: string): void;
}

/** The QEMU command line being built. */
export interface QemuCommand {
  /** The QEMU program name (set by the `qemu` module). */
  binary: string;
  /** The arguments so far. */
  readonly args: string[];
  /** Appends arguments. */
  add(...args: string[]): void;
  /** Whether an option (e.g. `"-vnc"`) is present. */
  has(option: string): boolean;
  /** The value following the first occurrence of an option. */
  valueOf(option: string): string | undefined;
  /**
   * The machine type the arguments so far name (`q35`, `pc-i440fx-7.2`:
   * the last type given by `-machine` or `-M`, as given), `""` for QEMU's
   * default (`pc` on x86).
   */
  machine(): string;
  /** Removes every occurrence of an option and its value (when `withValue`). */
  remove(option: string, withValue?: boolean): void;
}

/** Files of the VM being started. */
export interface VmFiles {
  /** The VM home, or for a bare boot the private runtime directory. */
  dir: string;
  /** QEMU's pid file (`cfg_file_pid`). */
  pid: string;
  /** The QMP socket (`cfg_file_monitor`). */
  monitor: string;
  /** The serial console socket (`cfg_file_serial`). */
  serial: string;
  /** The serial console log (`cfg_file_seriallog`). */
  serialLog: string;
  /** What vmup records about the running VM (`cfg_file_record`). */
  record: string;
}

/** What vmtools knows about the host. */
export interface HostInfo {
  /** A display server is reachable (`DISPLAY` or `WAYLAND_DISPLAY`). */
  graphical: boolean;
}

/** Storage helpers handed to modules. */
export interface StorageTools {
  /**
   * Parses a storage argument (prefix and location), reading the format by
   * content; a relative path is taken from `base` (default: the VM home).
   */
  inspect(spec: string, base?: string): StorageRef;
  /**
   * The enabled drives (`vm_storage_hddN_*`, `vm_storage_cdromN_*`), disks
   * first; each knows the directory its relative backend is taken from (a
   * parent's home for a value a fork inherits): pass `drive.base` to
   * {@linkcode inspect}.
   */
  drives(kinds?: readonly DriveKind[]): Drive[];
  /** The access a reference gets under `vm_storage_rwmode`. */
  access(ref: StorageRef): Access;
  /**
   * The shared folders (`vm_shareN_path`, `_tag`, `_security`), in order:
   * each an existing directory with its absolute path, mount tag, security
   * model and access (`ro` under an `ro:` prefix or a `vm_storage_rwmode`
   * of `snap` or `ro`). Throws the one-line reason a share cannot be used:
   * a missing directory, a bad tag, or a directory outside the VM's home
   * that the VM's own settings file names (see `cfg_share_allow`).
   */
  shares(): Share[];
  /** Doubles commas for QEMU option values. */
  escape(text: string): string;
  /** Builds an ISO image of a directory (deleted once QEMU has opened it). */
  isoFromDirectory(dir: string): Promise<string>;
  /**
   * Makes an ISO image with the volume label `label` holding `files`
   * (plain file names → content) at `target`, kept from one start to the
   * next: unless `target` holds exactly these files already (a digest of
   * them is kept in the image), it is made afresh, readable by its owner
   * only, and renamed over `target`. Returns whether it was made.
   */
  isoImage(
    target: string,
    label: string,
    files: Readonly<Record<string, string | Uint8Array>>,
  ): Promise<boolean>;
}

/** One of QEMU's firmware descriptors (`docs/interop/firmware.json`), as far as vmtools reads them. */
export interface FirmwareDescriptor {
  /** The descriptor file. */
  file: string;
  /** Its `description`. */
  description: string;
  /** Its `interface-types` (`uefi`, `bios`, …). */
  interfaceTypes: string[];
  /** Its `targets`: architectures, each with the machine type patterns (`pc-q35-*`) it supports. */
  targets: { architecture: string; machines: string[] }[];
  /** Its `features` (`secure-boot`, `enrolled-keys`, `requires-smm`, …). */
  features: string[];
  /**
   * A firmware loaded into flash in split mode: the code image and the
   * template of the variable store, each with its format (`raw`, `qcow2`).
   * Absent for any other mapping (memory, kernel, combined or stateless flash).
   */
  flash?: {
    executable: { filename: string; format: string };
    nvramTemplate: { filename: string; format: string };
  };
}

/** QEMU's firmware as the host describes it. */
export interface FirmwareTools {
  /**
   * The firmware descriptors in the directories of `cfg_qemu_firmwaredirs`,
   * in QEMU's order of preference: a file in a later directory replaces
   * one of the same name in an earlier one, and the files go by name. A
   * descriptor that cannot be read or parsed is skipped with a warning.
   */
  descriptors(): FirmwareDescriptor[];
}

/** Given to `buildcmd` modules. */
export interface BuildcmdContext {
  /**
   * The VM's effective settings, each value with its origin. Read them
   * with `get`, `has`, `origin`, `bool`, `int`, `size`, `list`,
   * `entries`; `refuse(name, reason)` makes the error for a value the
   * module cannot use, naming the file and line it came from. A value `set`
   * here reaches the modules after this one and is never stored.
   */
  settings: Settings;
  /** The QEMU command line built so far, shared by the modules in list order. */
  qemu: QemuCommand;
  /** Paths of the VM's runtime files, for the options that name them. */
  files: VmFiles;
  /** What vmtools knows about the host. */
  host: HostInfo;
  /** Storage helpers; relative paths are taken from the VM home. */
  storage: StorageTools;
  /** QEMU's firmware descriptors. */
  firmware: FirmwareTools;
  /** Completes a MAC prefix at random (see `vmrndmac`). */
  randomMac(prefix: string): string;
  /** Messages to the user, filtered by verbosity. */
  log: ModuleLog;
}

/** Given to `configure/*` modules when a VM is created or booted bare. */
export interface ConfigureContext {
  /** Effective settings of the new VM, updated as modules set values. */
  settings: Settings;
  /** Stores a value in the new VM (for a bare boot: only for this run). */
  set(name: string, value: string): void;
  /** Applies a template to the new VM. */
  addTemplate(name: string): void;
  /**
   * Asks the user, proposing `proposal`; returns it unchanged when answers
   * are assumed (`-y`). `check` returns an error message for a bad answer.
   */
  ask(
    question: string,
    proposal: string,
    check?: (answer: string) => string | undefined,
  ): Promise<string>;
  /** Asks yes or no, proposing `proposal`; returns it under `-y`. */
  confirm(question: string, proposal: boolean): Promise<boolean>;
  /**
   * Asks for a whole number, at least `min` and at most `max` when given
   * (refused as typed at a terminal; a wrong piped answer is an error).
   */
  askNumber(
    question: string,
    proposal: number,
    range?: { min?: number; max?: number },
  ): Promise<number>;
  /**
   * Asks for a value of the size setting `name`, checked as
   * {@linkcode checkSize} checks it; returns the answer as given (`4g`).
   */
  askSize(question: string, name: string, proposal: string): Promise<string>;
  /**
   * Asks to pick one of `choices` (a list at a terminal; piped, the value
   * or its number in the list, from 1); returns the value.
   */
  choose(question: string, choices: readonly Choice[], proposal: string): Promise<string>;
  /**
   * Asks to pick any number of `choices` (piped: values or numbers
   * separated by blanks, `-` for none); returns the values in list order.
   */
  chooseSeveral(
    question: string,
    choices: readonly Choice[],
    proposal: readonly string[],
  ): Promise<string[]>;
  /**
   * The templates `addTemplate` can apply: the built-in ones and
   * `templates/NAME.tpl` in the configuration roots (the highest
   * precedence wins by name), sorted by name; `description` is the first
   * comment line of the template.
   */
  templates(): { name: string; description: string }[];
  /** True for `vmup` on a bare path (nothing is kept), false for `vmcreate`. */
  bare: boolean;
  /** True when every question takes its proposal unasked (`-y`): a module must not guess where a user would choose. */
  assumeYes: boolean;
  /** The new VM's home (for a bare boot: the runtime directory). */
  dir: string;
  /** Disks the user gave (`-c`, `-C`, a bare disk image), as parsed storage references. */
  disks: StorageRef[];
  /** CD-ROMs the user gave (`-d`, `-D`, a bare ISO image), as parsed storage references. */
  cdroms: StorageRef[];
  /** Storage helpers, as for buildcmd modules; relative paths are taken from `dir`. */
  storage: StorageTools;
  /**
   * Converts an image to qcow2 at `target`, with progress; returns the new
   * file's path. Refuses to overwrite an existing `target`; undone (removed)
   * if the creation fails later.
   */
  convert(source: string, target: string): Promise<string>;
  /**
   * Creates a blank qcow2 image of `size` as qemu-img reads it (`40G`; a
   * plain number is bytes there, so give a unit) at `path`; returns its
   * path. Refuses to overwrite an existing file; undone if the creation
   * fails later.
   */
  createDisk(path: string, size: string): Promise<string>;
  /**
   * Checks `text` as a value of the size setting `name` (`vm_ram_size`,
   * `vm_storage_hddN_createsize`) exactly as vmtools reads it everywhere:
   * a plain number is MiB (as QEMU reads `-m`), `K` `M` `G` `T` suffixes
   * (any case, optionally followed by `iB` or `B`) as usual, fractions
   * allowed (`1.5G`); a RAM size under 16 MiB is refused. Returns what is
   * expected instead, or `undefined` when `text` is fine, so it serves as
   * the `check` of `ask`: `ask(q, p, (a) => checkSize(name, a))`.
   * A value already among the settings is read with `settings.size(name)`
   * (bytes), whose error also names where the value comes from.
   */
  checkSize(name: string, text: string): string | undefined;
  /**
   * `text` as a size in whole MiB, rounded up, for `-m` or `qemu-img`
   * (`${sizeMiB(name, text)}M`); throws what {@linkcode checkSize} reports.
   */
  sizeMiB(name: string, text: string): number;
  /** Completes a MAC prefix at random (see `vmrndmac`). */
  randomMac(prefix: string): string;
  /** Messages to the user, filtered by verbosity. */
  log: ModuleLog;
}

/** How a VM made by vmcp or vmfork relates to its source. */
export type CloneMode =
  /** A child of the source, its disks overlays on the source's (`-f`, vmfork's default). */
  | "fork"
  /** The source's sibling: the same parent, copies of its disks (`-c`, vmcp's default). */
  | "copy"
  /** No parent: the settings it inherited written out, its disks flattened (`-a`). */
  | "autonomous";

/**
 * Making the new VM's disks, each a step of the clone (undone if the clone
 * fails later). Each returns the backend value to store for the new VM.
 */
export interface CloneDisks {
  /** A qcow2 overlay `name` in the new home on the source image `image` (costs nothing, whatever its size). */
  overlay(image: string, name: string): Promise<string>;
  /**
   * A copy `name` of `image` in the new home, with progress. An image that
   * is an overlay stays one, on the same backing file — or on the copy of
   * it, when the backing VM is copied in the same command (`-R`, `-r`).
   */
  copy(image: string, name: string): Promise<string>;
  /** A standalone qcow2 image `name` holding all that `image` shows (its backing chain merged), with progress. */
  flatten(image: string, name: string): Promise<string>;
  /** The source image itself, in snapshot mode (`snap:`): nothing is copied, nothing written to it. */
  share(image: string): string;
}

/** Given to `clone` modules when vmcp or vmfork makes a VM from another. */
export interface CloneContext {
  /** How the new VM relates to its source. */
  mode: CloneMode;
  /** `-s`: the new VM uses the source's disks in snapshot mode instead of copies. */
  snapshot: boolean;
  /** `-k`: keep what must be unique to a VM (MAC addresses, the cloud-init instance-id) as the source has it. */
  keepUnique: boolean;
  /** The source VM: its home and effective settings. */
  source: { home: string; settings: Settings };
  /** The new VM's home. */
  home: string;
  /** The new VM's effective settings so far; `set` updates them. */
  settings: Settings;
  /** Stores a value in the new VM's settings file (`undefined` removes the file's own value). */
  set(name: string, value: string | undefined): void;
  /**
   * The source's enabled drives, disks first; a relative backend is taken
   * from `drive.base` (the home of the VM whose settings file set it).
   */
  drives(kinds?: readonly DriveKind[]): Drive[];
  /** Storage helpers, as for the other families; relative paths are taken from the source's home. */
  storage: StorageTools;
  /** Making the new VM's disks. */
  disks: CloneDisks;
  /**
   * Copies the file `from` (not a disk image: a small file such as a
   * firmware variable store) to `to`, a path relative to the new home
   * without `..` (missing folders are made); refuses to overwrite. Undone
   * if the clone fails later. Returns the new file's path.
   */
  copyFile(from: string, to: string): string;
  /** Completes a MAC prefix at random (see `vmrndmac`). */
  randomMac(prefix: string): string;
  /** Messages to the user, filtered by verbosity. */
  log: ModuleLog;
}

/** A `buildcmd` module. */
export type BuildcmdModule = (ctx: BuildcmdContext) => void | Promise<void>;
/** A `configure/templates` or `configure/settings` module. */
export type ConfigureModule = (ctx: ConfigureContext) => void | Promise<void>;
/** A `clone` module. */
export type CloneModule = (ctx: CloneContext) => void | Promise<void>;

/**
 * What a module file exports. Only `default` is required; vmtools reads
 * `reads` without calling anything.
 *
 * ```ts
 * export const reads = ["vm_rng_source"];
 * export default function rng({ settings, qemu }: BuildcmdContext) { … }
 * ```
 */
export interface ModuleExports<F extends BuildcmdModule | ConfigureModule | CloneModule = BuildcmdModule> {
  /** The module's function. */
  default: F;
  /**
   * The names of the settings the module reads (or stores), so that
   * vmtools does not warn about them as unknown (`warning: unknown setting
   * vm_rng_source`). A name may end in `*` to declare every name with that
   * prefix (`vm_rng_*`; not `vm_*` alone). Names vmtools knows need no
   * declaring, nor do the ones reserved for users (`vm_custom_*`,
   * `cfg_custom_*`). The names count while the module is in any
   * `cfg_modules_*` list, whichever family the command runs (vmup and
   * vmcreate check names). Anything but a list of such names is an error
   * naming the file.
   */
  reads?: readonly string[];
}
