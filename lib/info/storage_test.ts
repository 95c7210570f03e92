import { deepEqual } from "node:assert/strict";
import { parseImageChain } from "../storage/qemuimg.ts";
import { type StorageDevice, storageRows } from "./storage.ts";

const CHAIN = JSON.stringify([
  {
    "backing-filename-format": "qcow2",
    "virtual-size": 1048576,
    "filename": "/vms/child/over.qcow2",
    "format": "qcow2",
    "actual-size": 200704,
    "backing-filename": "../base/base.qcow2",
    "full-backing-filename": "/vms/base/base.qcow2",
  },
  {
    "virtual-size": 1048576,
    "filename": "/vms/base/base.qcow2",
    "format": "qcow2",
    "actual-size": 200704,
  },
]);

Deno.test("storageRows names each image of the chain", () => {
  const dev: StorageDevice = {
    device: "hdd1",
    backend: "over.qcow2",
    kind: "file",
    type: "qcow2 image",
    format: "qcow2",
    location: "/vms/child/over.qcow2",
    access: "rw",
    chain: parseImageChain(CHAIN),
  };
  deepEqual(storageRows(dev).map((r) => `${r.key}=${r.value}${r.comment ? ` #${r.comment}` : ""}`), [
    "hdd1=over.qcow2 #qcow2 image",
    "hdd1_location=/vms/child/over.qcow2",
    "hdd1_access=rw",
    "hdd1_format=qcow2",
    "hdd1_virtual_size=1M",
    "hdd1_disk_size=196K",
    "hdd1_backing1=/vms/base/base.qcow2 #stored as ../base/base.qcow2",
    "hdd1_backing1_format=qcow2",
    "hdd1_backing1_virtual_size=1M",
    "hdd1_backing1_disk_size=196K",
  ]);
});

Deno.test("storageRows shows an empty drive and a missing backend", () => {
  const base = { format: null, location: null, access: null } as const;
  deepEqual(
    storageRows({ ...base, device: "cdrom1", backend: "", kind: "empty", type: "empty drive" })
      .map((r) => r.key),
    ["cdrom1"],
  );
  deepEqual(
    storageRows({
      ...base,
      device: "hdd2",
      backend: "gone.img",
      kind: "missing",
      type: "missing",
      error: "gone.img: no such file or directory",
    }).map((r) => `${r.key}=${r.value}`),
    ["hdd2=gone.img", "hdd2_error=gone.img: no such file or directory"],
  );
});
