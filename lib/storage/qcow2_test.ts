import { deepEqual, equal } from "node:assert/strict";
import { parseQcow2Backing, readQcow2Backing } from "./qcow2.ts";
import { imageInfo } from "./qemuimg.ts";

async function qemuImg(...args: string[]): Promise<void> {
  const r = await new Deno.Command("qemu-img", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
}

Deno.test("the qcow2 header says what qemu-img info says of the backing file", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-qcow2-" });
  try {
    await qemuImg("create", "-q", "-f", "qcow2", `${dir}/base.qcow2`, "1G");
    await qemuImg("create", "-q", "-f", "raw", `${dir}/base.raw`, "1M");
    Deno.copyFileSync(`${dir}/base.qcow2`, `${dir}/b a'se,"1.qcow2`);
    const cases: [string, string[]][] = [
      ["plain v3", []],
      ["relative, with format", ["-b", "base.qcow2", "-F", "qcow2"]],
      ["absolute, compat 0.10", ["-o", "compat=0.10", "-b", `${dir}/base.qcow2`, "-F", "qcow2"]],
      ["raw backing", ["-b", "base.raw", "-F", "raw"]],
      ["name with spaces, quotes and commas", [
        "-b",
        `../${dir.split("/").pop()}/b a'se,"1.qcow2`,
        "-F",
        "qcow2",
      ]],
    ];
    for (const [i, [what, args]] of cases.entries()) {
      const path = `${dir}/img${i}.qcow2`;
      await qemuImg("create", "-q", "-f", "qcow2", ...args, path, "1G");
      const info = await imageInfo(path);
      deepEqual(
        readQcow2Backing(path),
        { backingFilename: info.backingFilename, backingFormat: info.backingFormat },
        what,
      );
    }
    // Not qcow2: left to qemu-img.
    equal(readQcow2Backing(`${dir}/base.raw`), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a damaged qcow2 header is not guessed at", () => {
  const header = new Uint8Array(512);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x514649fb);
  view.setUint32(4, 3);
  view.setUint32(100, 104); // header length
  equal(parseQcow2Backing(header)?.backingFilename, null);
  view.setBigUint64(8, 4000n); // backing name past what was read
  view.setUint32(16, 10);
  equal(parseQcow2Backing(header), undefined);
  view.setBigUint64(8, 0n);
  view.setUint32(104, 0xe2792aca); // an extension longer than the file
  view.setUint32(108, 9999);
  equal(parseQcow2Backing(header), undefined);
  view.setUint32(4, 4); // unknown version
  equal(parseQcow2Backing(header), undefined);
  equal(parseQcow2Backing(new Uint8Array(10)), undefined);
});
