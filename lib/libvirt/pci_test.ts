import { deepEqual, throws } from "node:assert/strict";
import { placePciDevices } from "./pci.ts";

Deno.test("PCI devices without an address get slots from the top of the root bus down", () => {
  deepEqual(
    placePciDevices([
      "-netdev",
      "user,id=nd1,restrict=on",
      "-device",
      "e1000-82545em,mac=52:54:00:00:00:01,netdev=nd1",
      "-device",
      "usb-kbd",
      "-device",
      "virtio-9p-pci,fsdev=fs1,mount_tag=share1",
      "-device",
      "virtio-rng-pci,addr=0x7",
      "-device",
      "rtl8139,bus=pci.0",
      "-device",
      '{"driver":"virtio-rng-pci"}',
      "-rtc",
      "base=utc",
    ], "pc"),
    [
      "-netdev",
      "user,id=nd1,restrict=on",
      "-device",
      "e1000-82545em,mac=52:54:00:00:00:01,netdev=nd1,addr=0x1f",
      "-device",
      "usb-kbd",
      "-device",
      "virtio-9p-pci,fsdev=fs1,mount_tag=share1,addr=0x1e",
      "-device",
      "virtio-rng-pci,addr=0x7",
      "-device",
      "rtl8139,bus=pci.0",
      "-device",
      '{"driver":"virtio-rng-pci"}',
      "-rtc",
      "base=utc",
    ],
  );
  // q35 keeps slot 0x1f for itself.
  deepEqual(placePciDevices(["-device", "virtio-net-pci"], "q35"), ["-device", "virtio-net-pci,addr=0x1e"]);
});

Deno.test("more PCI devices than the top slots hold is one clear error", () => {
  const many = Array.from({ length: 17 }, () => ["-device", "virtio-rng-pci"]).flat();
  throws(() => placePciDevices(many, undefined), /virtio-rng-pci: too many PCI devices/);
});

Deno.test("a -virtfs share becomes its file system and a 9p device with a slot of its own", () => {
  deepEqual(
    placePciDevices([
      "-virtfs",
      "local,path=/srv/a,,b,mount_tag=share1,security_model=mapped-xattr,id=share1,multidevs=remap,readonly=on",
      "-virtfs",
      "local,path=/x,mount_tag=t2,security_model=none",
    ], "q35"),
    [
      "-fsdev",
      "local,id=share1,path=/srv/a,,b,security_model=mapped-xattr,multidevs=remap,readonly=on",
      "-device",
      "virtio-9p-pci,fsdev=share1,mount_tag=share1,addr=0x1e",
      "-fsdev",
      "local,id=t2,path=/x,security_model=none",
      "-device",
      "virtio-9p-pci,fsdev=t2,mount_tag=t2,addr=0x1d",
    ],
  );
});
