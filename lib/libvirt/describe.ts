/**
 * A VM's resolved settings as a libvirt domain: what vmup would give QEMU,
 * decided from the same settings by the same rules as the built-in
 * buildcmd modules (`modules/buildcmd/`), in libvirt's terms. Where libvirt
 * has no element for a setting, the QEMU arguments vmup would use go
 * through `<qemu:commandline>`; where it has no equivalent at all, the
 * caller hears why (`log`).
 *
 * Nothing here depends on the host or the time: a home gives the same
 * domain every time, except for `auto` acceleration, which the caller
 * settles (vminfo writes `kvm`; vmup asks the libvirt host).
 * @module
 */
import { VmError } from "../errors.ts";
import type { VmFiles } from "../modules/api.ts";
import { basename } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import { escapeComma } from "../storage/inspect.ts";
import type { StorageFacts } from "../storage/preflight.ts";
import { describeNetwork } from "./describe_net.ts";
import { describeStorage } from "./describe_storage.ts";
import { placePciDevices } from "./pci.ts";
import type { CpuSpec, DomainSpec, FirmwareSpec, GraphicsSpec, SerialSpec } from "./spec.ts";
import { stableUuid } from "./stable.ts";

/** Where remarks about settings libvirt renders differently go (a `Logger`). */
export interface DescribeLog {
  /** A setting whose effect changes under libvirt. */
  warn(msg: string): void;
  /** A setting carried over another way than vmup does (verbosity 3). */
  step(msg: string): void;
}

/** What describing needs besides the settings. */
export interface DescribeOptions {
  /** The VM home, as a real path: the domain's identity, and where relative storage paths start. */
  home: string;
  /** The VM's runtime files (the serial log). */
  files: VmFiles;
  /** What `vm_qemu_accel=auto` stands for (default `kvm`). */
  auto?: "kvm" | "qemu";
  /** The run's token, kept in the domain's metadata. */
  token?: string;
  /** QEMU arguments of buildcmd modules that are not built in (`modules.ts`). */
  moduleArgs?: readonly string[];
  /** Takes the warnings and notes about settings libvirt renders differently. */
  log: DescribeLog;
  /** What vmup's checks found of the storage on this host (see `describeStorage`). */
  facts?: StorageFacts;
}

/** The `cfg_qemu_cmdprefix` default: libvirt finds that emulator itself. */
const DEFAULT_PREFIX = "qemu-system-";

/** Describes the VM whose resolved settings are `settings`. */
export async function describeDomain(settings: Settings, opts: DescribeOptions): Promise<DomainSpec> {
  const { home, log } = opts;
  const qemuArgs: string[] = [];
  const [machine, ...machineOptions] = settings.get("vm_qemu_machine").split(",");
  // QEMU merges -machine options into the machine libvirt names.
  if (machineOptions.length) qemuArgs.push("-machine", machineOptions.join(","));
  const arch = settings.get("vm_qemu_arch");
  const storage = await describeStorage(settings, home, opts.facts);
  const network = await describeNetwork(settings, home);
  for (const note of network.notes) log.step(note);
  const params = extraParams(settings);
  const osk = settings.get("vm_macos_osk");
  if (osk) qemuArgs.push("-device", `isa-applesmc,osk=${escapeComma(osk)}`);
  qemuArgs.push(...params.args, ...network.qemuArgs, ...(opts.moduleArgs ?? []));
  const accel = acceleration(settings, opts.auto ?? "kvm");
  const name = settings.get("vm_name") || basename(home);
  const uuid = await stableUuid(home);
  return {
    type: accel,
    name,
    domain: `${name}-${uuid.slice(0, 8)}`,
    uuid,
    home,
    token: opts.token,
    memoryMiB: Math.ceil(settings.size("vm_ram_size") / 2 ** 20),
    vcpus: settings.int("vm_cpu_count"),
    cpu: cpu(settings),
    arch: arch === "i386" ? "i686" : arch,
    machine: machine || undefined,
    emulator: emulator(settings, log),
    firmware: firmware(settings, home, machine, log),
    boot: bootDevices(settings, log),
    bootMenu: settings.bool("vm_boot_menu"),
    acpi: ["x86_64", "i386"].includes(arch),
    disks: storage.disks,
    scsiController: storage.scsiController,
    nics: network.nics,
    ...display(settings, log),
    serial: serial(settings, opts.files),
    tablet: params.tablet,
    qemuArgs: placePciDevices(qemuArgs, machine),
  };
}

/**
 * The VM's firmware, as the buildcmd module `firmware` chooses it: the BIOS,
 * or UEFI (`vm_firmware=uefi|uefi-secure`) with the VM's own variable store
 * (`cfg_file_efivars` in the home). libvirt picks the code image and the
 * store's template from the firmware descriptors of the host it runs the
 * domain on (which may be another host, with its own paths), and makes the
 * store from the template when the VM has none yet.
 */
function firmware(settings: Settings, home: string, machine: string, log: DescribeLog): FirmwareSpec {
  const kind = settings.get("vm_firmware") || "bios";
  if (kind === "bios") return { kind: "bios" };
  if (kind !== "uefi" && kind !== "uefi-secure") {
    throw settings.refuse("vm_firmware", "expected bios, uefi or uefi-secure");
  }
  const secure = kind === "uefi-secure";
  if (secure && !/^(q35|pc-q35-.*)$/.test(machine)) {
    throw new VmError(
      `vm_firmware=uefi-secure needs the q35 machine, whose SMM protects the Secure Boot keys (vm_qemu_machine=q35; now ${
        machine || "pc"
      })`,
    );
  }
  const vars = `${home}/${settings.get("cfg_file_efivars")}`;
  // libvirt writes through a link: a home from elsewhere could point it at another VM's store.
  try {
    if (Deno.lstatSync(vars).isSymlink) {
      throw new VmError(`${vars}: a symbolic link; the variable store must be the VM's own file`);
    }
  } catch (e) {
    if (e instanceof VmError) throw e; // not there yet: libvirt makes it from the template
  }
  const mode = settings.get("vm_storage_rwmode") || "rw";
  // vmup keeps the store unchanged with the disks (snapshot=on); libvirt's <nvram> has no such mode.
  if (mode !== "rw") {
    log.warn(`vm_storage_rwmode=${mode}: under libvirt the UEFI variable store ${vars} is written to`);
  }
  return { kind: "uefi", secure, vars };
}

/** `kvm` or `qemu` (TCG), as `vm_qemu_accel` asks. */
function acceleration(settings: Settings, auto: "kvm" | "qemu"): "kvm" | "qemu" {
  const accel = settings.get("vm_qemu_accel") || "auto";
  if (!["auto", "kvm", "tcg"].includes(accel)) {
    throw new VmError(`vm_qemu_accel='${accel}': expected auto, kvm or tcg`);
  }
  return accel === "auto" ? auto : accel === "kvm" ? "kvm" : "qemu";
}

/** The CPU model, with the `cpu` module's rule: `host` needs KVM, so `max` stands in unless KVM is forced. */
function cpu(settings: Settings): CpuSpec | undefined {
  const value = settings.get("vm_cpu_type");
  if (!value) return undefined;
  const [model, ...props] = value.split(",");
  if (model === "host" || model === "max") {
    if (props.length) {
      throw new VmError(`vm_cpu_type='${value}': libvirt takes no properties with '${model}'`);
    }
    return model === "host" && settings.get("vm_qemu_accel") === "kvm"
      ? { mode: "host-passthrough" }
      : { mode: "maximum" };
  }
  const features = props.map((p) => {
    const m = /^([+-])(.+)$/.exec(p) ?? /^(.+)=(on|off|true|false)$/.exec(p);
    if (!m) {
      throw new VmError(
        `vm_cpu_type='${value}': '${p}' has no libvirt equivalent (use +feature or -feature)`,
      );
    }
    const [name, on] = m[1] === "+" || m[1] === "-"
      ? [m[2], m[1] === "+"]
      : [m[1], ["on", "true"].includes(m[2])];
    return { name, policy: on ? "require" as const : "disable" as const };
  });
  return { mode: "custom", model, features };
}

/** An emulator named by absolute path; otherwise libvirt picks the one for the architecture. */
function emulator(settings: Settings, log: DescribeLog): string | undefined {
  const prefix = settings.get("cfg_qemu_cmdprefix");
  if (prefix.startsWith("/")) return prefix + settings.get("vm_qemu_arch");
  if (prefix !== DEFAULT_PREFIX) {
    log.warn(`cfg_qemu_cmdprefix='${prefix}' is not an absolute path: libvirt picks the emulator itself`);
  }
  return undefined;
}

const BOOT_DEVICES: Record<string, string> = {
  a: "fd",
  b: "fd",
  c: "hd",
  d: "cdrom",
  n: "network",
  o: "network",
  p: "network",
};

/** The boot order: a one-time first device (`vm_boot_once`) first, then `vm_boot_order`. */
function bootDevices(settings: Settings, log: DescribeLog): string[] {
  const letters: string[] = [];
  for (const name of ["vm_boot_once", "vm_boot_order"]) {
    const value = settings.get(name);
    if (!/^[a-p]*$/.test(value)) {
      throw new VmError(`${name}='${value}': expected drive letters a-p (c disk, d CD-ROM, n network)`);
    }
    letters.push(...value);
  }
  if (settings.get("vm_boot_once")) {
    log.warn(
      `vm_boot_once='${
        settings.get("vm_boot_once")
      }': libvirt has no one-time boot device; it comes first for this whole run`,
    );
  }
  return [...new Set(letters.map((l) => BOOT_DEVICES[l]).filter((d) => d !== undefined))];
}

const VIDEO: Record<string, string> = {
  std: "vga",
  cirrus: "cirrus",
  vmware: "vmvga",
  qxl: "qxl",
  virtio: "virtio",
  none: "none",
};

/** The display and video card, as the `display` and `keyboard` modules choose them. */
function display(settings: Settings, log: DescribeLog): { graphics?: GraphicsSpec; video: string } {
  let type = settings.get("vm_display_type");
  // A libvirt daemon has no window to open: what `auto` means without a display server.
  if (type === "auto") type = "vnc";
  let device = settings.get("vm_display_device");
  if (type === "spice" && device !== "none") device = "qxl";
  const video = VIDEO[device];
  if (video === undefined) {
    throw new VmError(
      `vm_display_device='${device}': expected one of ${Object.keys(VIDEO).join(", ")} (under libvirt)`,
    );
  }
  const listen = settings.get("vm_display_iface") || "127.0.0.1";
  const keymap = settings.get("vm_keyboard_mapping") || undefined;
  switch (type) {
    case "vnc": {
      const fixed = settings.get("vm_display_port");
      if (!fixed) {
        if (Number(settings.get("vm_display_portmin") || 5900) !== 5900) {
          log.step("vm_display_portmin: libvirt picks the VNC port itself, from its own range");
        }
        return { graphics: { type: "vnc", listen, keymap }, video };
      }
      const port = Number(fixed);
      if (!Number.isInteger(port) || port < 5900 || port > 65535) {
        throw new VmError(`VNC port ${fixed} is out of range (5900-65535)`);
      }
      return { graphics: { type: "vnc", listen, port, keymap }, video };
    }
    case "spice": {
      const port = Number(settings.get("vm_display_port") || settings.get("vm_display_portmin") || "5900");
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new VmError(`SPICE port ${port} is out of range (1-65535)`);
      }
      return { graphics: { type: "spice", listen, port, keymap }, video };
    }
    case "gtk":
      log.warn("vm_display_type=gtk: libvirt has no GTK display; an SDL window instead");
      return { graphics: { type: "sdl" }, video };
    case "sdl":
      return { graphics: { type: "sdl" }, video };
    case "none":
      return { video };
    default:
      throw new VmError(`vm_display_type='${type}': expected auto, vnc, spice, sdl, gtk or none`);
  }
}

/** The first serial port, as the `serial` module connects it: a console logged to the serial log, a log only, or nothing. */
function serial(settings: Settings, files: VmFiles): SerialSpec | undefined {
  const mode = settings.get("vm_serial_mode");
  switch (mode) {
    case "socket":
      return { type: "pty", log: files.serialLog };
    case "log":
      return { type: "file", path: files.serialLog };
    case "none":
      return undefined;
    default:
      throw new VmError(`vm_serial_mode='${mode}': expected socket, log or none`);
  }
}

/**
 * `vm_qemu_params`, as the `qemu` module passes them, with the USB tablet of
 * the default (`-usb -device usb-tablet`) made a libvirt input device:
 * `-usb` would take the slot of libvirt's own USB controller.
 */
function extraParams(settings: Settings): { args: string[]; tablet: boolean } {
  const params = settings.list("vm_qemu_params");
  const args: string[] = [];
  let tablet = false;
  for (let i = 0; i < params.length; i++) {
    const [p, next] = [params[i], params[i + 1]];
    if (p === "-daemonize" || p === "-usb") continue;
    if ((p === "-device" && next === "usb-tablet") || (p === "-usbdevice" && next === "tablet")) {
      tablet = true;
      i++;
      continue;
    }
    args.push(p);
  }
  return { args, tablet };
}
