import { deepEqual } from "node:assert/strict";
import { parseBlockTree } from "./device.ts";

Deno.test("lsblk's tree: mounts and swap anywhere below a disk, and holders that are not partitions, make it in use", () => {
  const state = parseBlockTree("/dev/sdb", {
    path: "/dev/sdb",
    type: "disk",
    ro: false,
    mountpoint: null,
    owner: "root",
    group: "disk",
    mode: "brw-rw----",
    children: [
      { path: "/dev/sdb1", type: "part", mountpoint: "/boot" },
      { path: "/dev/sdb2", type: "part", mountpoint: "[SWAP]" },
      {
        path: "/dev/sdb3",
        type: "part",
        children: [{ path: "/dev/mapper/vg-lv", type: "lvm", mountpoint: null }],
      },
      { path: "/dev/sdb4", type: "part", mountpoint: null },
    ],
  });
  deepEqual(state, {
    path: "/dev/sdb",
    readable: true,
    writable: true,
    inUse: [
      "/dev/sdb1 is mounted on /boot",
      "swap on /dev/sdb2",
      "/dev/mapper/vg-lv (lvm) is built on it",
    ],
    owner: "root:disk brw-rw----",
  });
});

Deno.test('lsblk\'s read-only flag (true, or "1" in older util-linux) makes a device not writable, whoever asks', () => {
  for (const ro of [true, "1"]) {
    const state = parseBlockTree("/dev/loop3", { path: "/dev/loop3", type: "loop", ro, mountpoint: null });
    deepEqual([state.writable, state.why, state.inUse, state.owner], [
      false,
      "the kernel holds it read-only",
      [],
      "?:? ?",
    ]);
  }
});
