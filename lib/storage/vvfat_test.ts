import { equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { checkFitsVvfat, fatBytes, VVFAT_DATA_BYTES } from "./vvfat.ts";

Deno.test("a tree on a FAT disk: files in whole 8 KiB clusters, subdirectories' entries too, the root's in its own area", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/a`, "x"); // 1 cluster
    Deno.writeFileSync(`${dir}/b`, new Uint8Array(8193)); // 2 clusters
    Deno.mkdirSync(`${dir}/sub`);
    // 300 entries of 1 + 2 long-name slots (a name of 14–26 characters): 900 entries of 32 bytes = 4 clusters.
    for (let i = 0; i < 300; i++) {
      Deno.writeTextFileSync(`${dir}/sub/file-number-${String(i).padStart(3, "0")}`, "");
    }
    Deno.symlinkSync(dir, `${dir}/sub/loop`); // counted once, not followed round
    equal(fatBytes(dir), (1 + 2 + 4) * 8192);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("over the room of QEMU's 504 MiB disk, a directory is refused naming both sizes", () => {
  checkFitsVvfat("/d", "hdd1", VVFAT_DATA_BYTES);
  throws(
    () => checkFitsVvfat("/d", "hdd1", 700 * 2 ** 20),
    new VmError(
      "hdd1 (/d): its files take 700.0 MiB, more than the 503.7 MiB a virtual FAT disk (504 MiB) holds; use a disk image, or pass the directory as a CD-ROM (-d)",
    ),
  );
});
