/**
 * The XML of every kind of element vmtools writes is a domain libvirt's
 * schema accepts and its test driver defines (see tests/helpers/libvirt.ts),
 * including UEFI, which no setting selects yet.
 */
import { equal, match } from "node:assert/strict";
import { assertValidDomain } from "../../tests/helpers/libvirt.ts";
import { renderDomain } from "./render.ts";
import type { DomainSpec } from "./spec.ts";

const BASE: DomainSpec = {
  type: "qemu",
  name: `it's <a> & "b"`,
  domain: `it's <a> & "b"-7f471c26`,
  uuid: "7f471c26-7d7d-83a0-820a-60db79637088",
  home: "/vms/it's",
  memoryMiB: 64,
  vcpus: 2,
  arch: "x86_64",
  firmware: { kind: "bios" },
  boot: ["cdrom", "hd"],
  bootMenu: false,
  acpi: true,
  disks: [],
  scsiController: false,
  nics: [],
  video: "vga",
  tablet: true,
  qemuArgs: [],
};

Deno.test("a domain with every kind of disk, NIC, display and serial port validates", async () => {
  const spec: DomainSpec = {
    ...BASE,
    token: "0123456789abcdef0123456789abcdef",
    machine: "q35",
    cpu: { mode: "custom", model: "qemu64", features: [{ name: "ssse3", policy: "require" }] },
    emulator: "/usr/bin/qemu-system-x86_64",
    bootMenu: true,
    disks: [
      {
        name: "hdd1",
        device: "disk",
        source: { type: "file", path: "/vms/x/hdd.qcow2" },
        format: "qcow2",
        backing: [
          { source: { type: "file", path: "/vms/base.qcow2" }, format: "qcow2" },
          { source: { type: "file", path: "/vms/base.raw" }, format: "raw" },
        ],
        target: { dev: "sda", bus: "scsi" },
        transient: true,
        readonly: false,
        discard: false,
      },
      {
        name: "hdd2",
        device: "disk",
        source: {
          type: "network",
          protocol: "https",
          name: "/d.img",
          host: "example.org",
          port: 8443,
          query: "a=b",
        },
        format: "raw",
        target: { dev: "sdb", bus: "scsi" },
        transient: false,
        readonly: true,
        discard: false,
      },
      {
        name: "cdrom1",
        device: "cdrom",
        format: "raw",
        target: { dev: "sdc", bus: "sata" },
        transient: false,
        readonly: true,
        discard: false,
      },
    ],
    scsiController: true,
    nics: [
      { name: "iface1", mac: "52:54:00:00:00:01", model: "e1000-82545em", network: { type: "user" } },
      {
        name: "iface2",
        mac: "52:54:00:00:00:02",
        model: "virtio",
        network: { type: "bridge", bridge: "br0" },
      },
    ],
    graphics: { type: "spice", listen: "::1", port: 5930, keymap: "de" },
    video: "qxl",
    serial: { type: "file", path: "/vms/x/serial.log" },
    qemuArgs: ["-rtc", "base=localtime"],
  };
  const xml = renderDomain(spec);
  await assertValidDomain(xml);
  equal(renderDomain(spec), xml);
  match(xml, /<name>it&apos;s &lt;a&gt; &amp; &quot;b&quot;-7f471c26<\/name>/);
  match(xml, /<title>it&apos;s &lt;a&gt; &amp; &quot;b&quot;<\/title>/);
  match(xml, /<qemu:arg value='base=localtime'\/>/);
});

Deno.test("BIOS, a VNC display and a console on a pseudo-terminal validate", async () => {
  const xml = renderDomain({
    ...BASE,
    cpu: { mode: "maximum" },
    graphics: { type: "vnc", listen: "127.0.0.1" },
    serial: { type: "pty", log: "/vms/x/serial.log" },
  });
  await assertValidDomain(xml);
  match(xml, /<graphics type='vnc' autoport='yes' listen='127.0.0.1'\/>/);
  match(xml, /<console type='pty'>/);
});

Deno.test("UEFI with the VM's own variable store validates, firmware picked by libvirt or named", async () => {
  const picked = renderDomain({
    ...BASE,
    machine: "q35",
    firmware: { kind: "uefi", secure: true, vars: "/vms/x/efivars.fd" },
  });
  await assertValidDomain(picked);
  match(picked, /<os firmware='efi'>/);
  match(picked, /<feature enabled='yes' name='secure-boot'\/>/);
  match(picked, /<nvram>\/vms\/x\/efivars.fd<\/nvram>/);
  match(picked, /<smm state='on'\/>/);
  const named = renderDomain({
    ...BASE,
    firmware: {
      kind: "uefi",
      secure: false,
      vars: "/vms/x/efivars.fd",
      code: "/usr/share/OVMF/OVMF_CODE_4M.fd",
      varsTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd",
    },
  });
  await assertValidDomain(named);
  match(
    named,
    /<loader readonly='yes' secure='no' type='pflash'>\/usr\/share\/OVMF\/OVMF_CODE_4M.fd<\/loader>/,
  );
});
