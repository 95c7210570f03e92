import { deepEqual, equal, rejects } from "node:assert/strict";
import { Change, withChange } from "../change/change.ts";
import { Logger } from "../ui/log.ts";
import {
  convertImage,
  createImage,
  createOverlay,
  imageChain,
  imageInfo,
  parseImageChain,
  setBacking,
} from "./qemuimg.ts";

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

Deno.test("parseImageChain reads qemu-img's backing chain", () => {
  const chain = parseImageChain(CHAIN);
  equal(chain.length, 2);
  deepEqual(chain[0], {
    filename: "/vms/child/over.qcow2",
    format: "qcow2",
    virtualSize: 1048576,
    actualSize: 200704,
    backingFilename: "../base/base.qcow2",
    backingFormat: "qcow2",
  });
  equal(chain[1].backingFilename, null);
  equal(parseImageChain(JSON.stringify({ filename: "x", format: "raw" })).length, 1);
});

const quiet = new Logger("test", -1, { out() {}, err() {}, errIsTerminal: false, inIsTerminal: false });
const PATTERN = "vmtools-backup.XXXXXXXXXX";

/** Writes `byte` over the first MiB of an image, through QEMU's block layer. */
async function write(path: string, byte: number): Promise<void> {
  const r = await new Deno.Command("qemu-io", { args: ["-c", `write -P ${byte} 0 1M`, path], stdout: "null" })
    .output();
  equal(r.code, 0);
}

async function reads(path: string, byte: number): Promise<boolean> {
  const r = await new Deno.Command("qemu-io", { args: ["-c", `read -P ${byte} 0 1M`, path], stdout: "piped" })
    .output();
  return r.code === 0 && !new TextDecoder().decode(r.stdout).includes("Pattern verification failed");
}

Deno.test("an overlay, a copy that stays an overlay, a flattened copy, and a re-pointed backing file", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-qemuimg-" });
  try {
    Deno.mkdirSync(`${dir}/child`);
    Deno.mkdirSync(`${dir}/copy`);
    await withChange(dir, { pattern: PATTERN, label: "t", log: quiet }, async (c) => {
      await createImage(c, `${dir}/base.qcow2`, "16M", quiet);
      await write(`${dir}/base.qcow2`, 0x41);
      await createOverlay(c, `${dir}/child/hdd.qcow2`, "../base.qcow2", "qcow2", quiet);
      await write(`${dir}/child/hdd.qcow2`, 0x42);
      await convertImage(c, `${dir}/child/hdd.qcow2`, `${dir}/copy/hdd.qcow2`, quiet, {
        backing: { file: "../base.qcow2", format: "qcow2" },
      });
      await convertImage(c, `${dir}/child/hdd.qcow2`, `${dir}/flat.qcow2`, quiet);
    });
    const [top, base] = await imageChain(`${dir}/copy/hdd.qcow2`);
    equal(top.backingFilename, "../base.qcow2");
    equal(base.filename, `${dir}/base.qcow2`);
    equal(await reads(`${dir}/copy/hdd.qcow2`, 0x42), true);
    equal((await imageChain(`${dir}/flat.qcow2`)).length, 1, "flattened: no backing file");
    equal(await reads(`${dir}/flat.qcow2`, 0x42), true);

    // Re-pointing is undone with the change.
    Deno.renameSync(`${dir}/base.qcow2`, `${dir}/moved.qcow2`);
    await rejects(
      withChange(dir, { pattern: PATTERN, label: "t", log: quiet }, async (c) => {
        await setBacking(c, `${dir}/child/hdd.qcow2`, "../moved.qcow2", "qcow2", quiet);
        equal((await imageChain(`${dir}/child/hdd.qcow2`))[0].backingFilename, "../moved.qcow2");
        throw new Error("undo it");
      }),
      /undo it/,
    );
    equal((await imageInfo(`${dir}/child/hdd.qcow2`)).backingFilename, "../base.qcow2");
    // Nothing is written over.
    const c = Change.begin(dir, { pattern: PATTERN, label: "t", log: quiet });
    await rejects(createImage(c, `${dir}/flat.qcow2`, "1M", quiet), /already exists/);
    await rejects(convertImage(c, `${dir}/flat.qcow2`, `${dir}/moved.qcow2`, quiet), /already exists/);
    c.revert();
    deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "child",
      "copy",
      "flat.qcow2",
      "moved.qcow2",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
