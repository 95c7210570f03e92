/**
 * A libvirt domain as vmtools describes a VM: plain data, worked out from
 * the VM's settings by `describe.ts` and written as XML by `render.ts`.
 * Only what vmtools sets is here; libvirt fills in the rest (PCI
 * addresses, controllers, the default machine of the architecture).
 * @module
 */

/** How the guest starts: the BIOS, or UEFI with the VM's own variable store. */
export type FirmwareSpec =
  | { kind: "bios" }
  | {
    kind: "uefi";
    /** Secure Boot on (the firmware build with enrolled keys; needs SMM, so a q35 machine). */
    secure: boolean;
    /** The VM's variable store (`<nvram>`), created from the firmware's template when missing. */
    vars: string;
    /** The firmware code image; absent: libvirt picks one from the firmware descriptors. */
    code?: string;
    /** The template the variable store is made from when it does not exist yet. */
    varsTemplate?: string;
  };

/** One disk or CD-ROM drive. */
export interface DiskSpec {
  /** `hdd1`, `cdrom2`, …: the drive's name in messages and its libvirt alias (`ua-hdd1`). */
  name: string;
  /** libvirt's device kind: a hard `disk` or a `cdrom` drive. */
  device: "disk" | "cdrom";
  /** Where the data is; absent for an empty CD-ROM drive. */
  source?: SourceSpec;
  /** The image format (libvirt's driver type: `raw`, `qcow2`, `vpc`, …). */
  format?: string;
  /**
   * The images below `source`, nearest first (an overlay's backing files),
   * `[]` for an image on nothing; absent when libvirt is left to read the
   * chain itself (a network source, a backing file named by a URL).
   */
  backing?: ImageSpec[];
  /** `<target dev bus>`. */
  target: { dev: string; bus: "ide" | "sata" | "virtio" | "scsi" };
  /** Guest writes go to a throwaway overlay (`snap:`, `-s`). */
  transient: boolean;
  /** The guest may not write (`<readonly/>`): CD-ROM drives, and disks under `ro` access. */
  readonly: boolean;
  /** Unmapped blocks and zero writes free space in the image (writable local images). */
  discard: boolean;
}

/** Where a drive's data lives. */
export type SourceSpec =
  | { type: "file"; path: string }
  | { type: "block"; path: string }
  | { type: "network"; protocol: string; name: string; host: string; port?: number; query?: string };

/** One image of a backing chain. */
export interface ImageSpec {
  /** Where the backing image is. */
  source: SourceSpec;
  /** Its format, in libvirt's words (`qcow2`, `raw`, `vpc`, …). */
  format: string;
}

/** One network interface. */
export interface NicSpec {
  /** `iface1`, …: the interface's name in messages. */
  name: string;
  /** Its MAC address; a prefix in the settings is completed alike on every run (see `stable.ts`). */
  mac: string;
  /** The NIC model (`e1000-82545em`, `virtio`, …). */
  model: string;
  /** User-mode networking (QEMU's slirp), or a host bridge. */
  network: { type: "user" } | { type: "bridge"; bridge: string };
}

/** The display the VM serves. */
export type GraphicsSpec =
  | { type: "vnc"; listen: string; port?: number; keymap?: string }
  | { type: "spice"; listen: string; port: number; keymap?: string }
  | { type: "sdl" };

/** The guest's first serial port. */
export type SerialSpec =
  /** A pseudo-terminal (`virsh console`), everything it shows also written to `log`. */
  | { type: "pty"; log: string }
  /** Written to a file only. */
  | { type: "file"; path: string };

/** The CPU model given to the guest. */
export type CpuSpec =
  | { mode: "host-passthrough" }
  | { mode: "maximum" }
  | { mode: "custom"; model: string; features: { name: string; policy: "require" | "disable" }[] };

/** A domain as vmtools describes it. */
export interface DomainSpec {
  /** `kvm` or `qemu` (TCG). */
  type: "kvm" | "qemu";
  /** The VM's name (`vm_name`, else its home's), the domain's title. */
  name: string;
  /**
   * The domain's name: the VM's, made unique by the start of its UUID.
   * Homes are told apart by path, and one daemon (`qemu:///system`) serves
   * every user: two homes named alike must not clash there.
   */
  domain: string;
  /** Derived from the home's real path (see `stable.ts`): the same home always has the same UUID. */
  uuid: string;
  /** The VM home the domain runs from, kept in the domain's metadata. */
  home: string;
  /** A run's token, kept in the metadata too (added by vmup; vminfo prints none). */
  token?: string;
  /** Guest memory in MiB: `vm_ram_size` rounded up. */
  memoryMiB: number;
  /** Virtual CPUs (`vm_cpu_count`). */
  vcpus: number;
  /** Absent: QEMU's default model. */
  cpu?: CpuSpec;
  /** The guest architecture in libvirt's words: `vm_qemu_arch`, `i386` written `i686`. */
  arch: string;
  /** QEMU's machine type; absent: the architecture's default. */
  machine?: string;
  /** The emulator, when `cfg_qemu_cmdprefix` names one by absolute path. */
  emulator?: string;
  /** BIOS or UEFI, as `vm_firmware` asks. */
  firmware: FirmwareSpec;
  /** libvirt boot devices in order (`hd`, `cdrom`, `network`, `fd`). */
  boot: string[];
  /** Whether the firmware offers a boot menu (`vm_boot_menu`). */
  bootMenu: boolean;
  /** ACPI (`<acpi/>`, without which libvirt turns it off): for x86 guests, which QEMU gives it by default. */
  acpi: boolean;
  /** The enabled drives, disks before CD-ROM drives. */
  disks: DiskSpec[];
  /** A virtio-scsi controller for SCSI disks. */
  scsiController: boolean;
  /** The interfaces libvirt has elements for; the others are among `qemuArgs`. */
  nics: NicSpec[];
  /** The display; absent for `vm_display_type=none`. */
  graphics?: GraphicsSpec;
  /** libvirt's video model (`vga`, `cirrus`, `qxl`, …; `none`). */
  video: string;
  /** The first serial port; absent for `vm_serial_mode=none`. */
  serial?: SerialSpec;
  /** A USB tablet (absolute pointer), from `-device usb-tablet` among the extra parameters. */
  tablet: boolean;
  /** QEMU arguments libvirt has no element for, passed as they are (`<qemu:commandline>`). */
  qemuArgs: string[];
}
