/**
 * Writes a {@linkcode DomainSpec} as libvirt domain XML: the same spec
 * always gives the same text, element for element.
 * @module
 */
import type {
  DiskSpec,
  DomainSpec,
  FirmwareSpec,
  ImageSpec,
  NicSpec,
  SerialSpec,
  SourceSpec,
} from "./spec.ts";
import { el, renderXml, type XmlNode } from "./xml.ts";

/** The XML namespace of vmtools' element in a domain's `<metadata>`. */
export const METADATA_NS = "https://vmtools.invalid/xmlns/libvirt/1";
/** The prefix that element is written with. */
const METADATA_PREFIX = "vmtools";
const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

/** The domain XML of `spec`. */
export function renderDomain(spec: DomainSpec): string {
  const domain = el("domain", { type: spec.type, "xmlns:qemu": spec.qemuArgs.length ? QEMU_NS : undefined }, [
    el("name", {}, spec.domain),
    el("uuid", {}, spec.uuid),
    el("title", {}, spec.name),
    el("metadata", {}, [
      el(`${METADATA_PREFIX}:vm`, {
        [`xmlns:${METADATA_PREFIX}`]: METADATA_NS,
        home: spec.home,
        token: spec.token,
      }),
    ]),
    el("memory", { unit: "MiB" }, String(spec.memoryMiB)),
    el("vcpu", {}, String(spec.vcpus)),
    os(spec),
    el("features", {}, [
      spec.acpi && el("acpi"),
      spec.firmware.kind === "uefi" && spec.firmware.secure && el("smm", { state: "on" }),
    ]),
    cpu(spec),
    el("on_poweroff", {}, "destroy"),
    el("on_reboot", {}, "restart"),
    el("on_crash", {}, "destroy"),
    el("devices", {}, [
      spec.emulator !== undefined && el("emulator", {}, spec.emulator),
      ...spec.disks.map(disk),
      spec.scsiController && el("controller", { type: "scsi", index: 0, model: "virtio-scsi" }),
      ...spec.nics.map(nic),
      ...(spec.serial ? serial(spec.serial) : []),
      spec.tablet && el("input", { type: "tablet", bus: "usb" }),
      spec.graphics && el("graphics", graphicsAttrs(spec.graphics)),
      el("video", {}, [el("model", { type: spec.video })]),
      // vmup gives QEMU no balloon device; libvirt would add one.
      el("memballoon", { model: "none" }),
    ]),
    spec.qemuArgs.length > 0 &&
    el("qemu:commandline", {}, spec.qemuArgs.map((value) => el("qemu:arg", { value }))),
  ]);
  return renderXml(domain);
}

function os(spec: DomainSpec): XmlNode {
  return el("os", firmwareAttrs(spec.firmware), [
    el("type", { arch: spec.arch, machine: spec.machine }, "hvm"),
    ...firmwareElements(spec.firmware),
    ...spec.boot.map((dev) => el("boot", { dev })),
    spec.bootMenu && el("bootmenu", { enable: "yes" }),
  ]);
}

// ---------------------------------------------------------------------------
// Firmware. BIOS is libvirt's default and needs nothing. UEFI (vm_firmware=
// uefi|uefi-secure) is written from the spec's `uefi` variant, which
// describe.ts `firmware()` produces.
// ---------------------------------------------------------------------------

function firmwareAttrs(fw: FirmwareSpec): Record<string, string | undefined> {
  // Without a code image named, libvirt picks one from the firmware descriptors.
  return fw.kind === "uefi" && fw.code === undefined ? { firmware: "efi" } : {};
}

function firmwareElements(fw: FirmwareSpec): XmlNode[] {
  if (fw.kind === "bios") return [];
  const secure = fw.secure ? "yes" : "no";
  const nvram = el("nvram", { template: fw.varsTemplate }, fw.vars);
  if (fw.code !== undefined) {
    return [el("loader", { readonly: "yes", secure, type: "pflash" }, fw.code), nvram];
  }
  return [
    el("firmware", {}, [
      el("feature", { enabled: secure, name: "enrolled-keys" }),
      el("feature", { enabled: secure, name: "secure-boot" }),
    ]),
    nvram,
  ];
}

function cpu(spec: DomainSpec): XmlNode | undefined {
  const c = spec.cpu;
  if (c === undefined) return undefined;
  if (c.mode !== "custom") return el("cpu", { mode: c.mode });
  return el("cpu", { mode: "custom", match: "exact" }, [
    el("model", { fallback: "forbid" }, c.model),
    ...c.features.map((f) => el("feature", { policy: f.policy, name: f.name })),
  ]);
}

function sourceNode(s: SourceSpec): XmlNode {
  switch (s.type) {
    case "file":
      return el("source", { file: s.path });
    case "block":
      return el("source", { dev: s.path });
    case "network":
      return el("source", { protocol: s.protocol, name: s.name, query: s.query }, [
        el("host", { name: s.host, port: s.port }),
      ]);
  }
}

/** `<backingStore>` elements nested down the chain, ending with an empty one (no further image). */
function backingStore(chain: readonly ImageSpec[]): XmlNode {
  if (!chain.length) return el("backingStore");
  const [first, ...rest] = chain;
  return el("backingStore", { type: first.source.type }, [
    el("format", { type: first.format }),
    sourceNode(first.source),
    backingStore(rest),
  ]);
}

function disk(d: DiskSpec): XmlNode {
  const local = d.source !== undefined && d.source.type !== "network";
  return el("disk", { type: d.source?.type ?? "file", device: d.device }, [
    el("driver", {
      name: "qemu",
      type: d.format,
      discard: d.discard ? "unmap" : undefined,
      detect_zeroes: d.discard ? "unmap" : undefined,
    }),
    d.source && sourceNode(d.source),
    local && d.backing !== undefined && backingStore(d.backing),
    el("target", { dev: d.target.dev, bus: d.target.bus }),
    d.readonly && el("readonly"),
    d.transient && el("transient"),
    el("alias", { name: `ua-${d.name}` }),
  ]);
}

function nic(n: NicSpec): XmlNode {
  return el("interface", { type: n.network.type }, [
    el("mac", { address: n.mac }),
    n.network.type === "bridge" && el("source", { bridge: n.network.bridge }),
    el("model", { type: n.model }),
  ]);
}

function serial(s: SerialSpec): XmlNode[] {
  if (s.type === "file") {
    return [
      el("serial", { type: "file" }, [
        el("source", { path: s.path, append: "off" }),
        el("target", { port: 0 }),
      ]),
    ];
  }
  return [
    el("serial", { type: "pty" }, [el("log", { file: s.log, append: "off" }), el("target", { port: 0 })]),
    el("console", { type: "pty" }, [el("target", { type: "serial", port: 0 })]),
  ];
}

function graphicsAttrs(g: NonNullable<DomainSpec["graphics"]>): Record<string, string | number | undefined> {
  if (g.type === "sdl") return { type: "sdl" };
  return {
    type: g.type,
    port: g.port,
    autoport: g.port === undefined ? "yes" : "no",
    listen: g.listen,
    keymap: g.keymap,
  };
}
