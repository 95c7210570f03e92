import { deepEqual, equal, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { VmError } from "../../errors.ts";
import { type ScanOptions, scanTar } from "./archive.ts";

/** A tar archive of `files`, made with tar-stream's packer (pax headers for long names). */
async function tarOf(files: [string, Uint8Array | null][]): Promise<Uint8Array> {
  const tar = await import("tar-stream");
  const pack = tar.pack();
  for (const [name, data] of files) {
    if (data === null) pack.entry({ name, type: "directory" });
    else pack.entry({ name }, data);
  }
  pack.finalize();
  const parts: Uint8Array[] = [];
  for await (const chunk of pack) parts.push(chunk as Uint8Array);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const OPTS: ScanOptions = {
  digestsOf: () => ["sha256", "sha1"],
  wantText: (name) => name.endsWith(".ovf"),
  maxText: 1000,
};

Deno.test("scanTar: each file's offset, size, digests, and the text asked for; directories skipped", async () => {
  const long = `${"very-long-name-".repeat(10)}.vmdk`; // over 100 bytes: a pax header before it
  const files: [string, Uint8Array | null][] = [
    ["./a.ovf", new TextEncoder().encode("<Envelope/>")],
    ["dir", null],
    [long, bytes(70000, 3)],
    ["empty", new Uint8Array()],
    ["b.vmdk", bytes(513, 9)],
  ];
  const path = Deno.makeTempFileSync({ suffix: ".ova" });
  try {
    const archive = await tarOf(files);
    Deno.writeFileSync(path, archive);
    const seen: string[] = [];
    let progress = 0;
    const members = await scanTar(path, {
      ...OPTS,
      onMember: (m) => seen.push(m.name),
      onProgress: (n) => progress = n,
    });
    deepEqual(members.map((m) => m.name), ["a.ovf", long, "empty", "b.vmdk"]);
    deepEqual(seen, ["a.ovf", long, "empty", "b.vmdk"]);
    equal(progress, archive.length);
    equal(members[0].text, "<Envelope/>");
    equal(members[1].text, undefined);
    for (const m of members) {
      const data = files.find(([n]) => n.replace(/^\.\//, "") === m.name)![1]!;
      equal(m.size, data.length);
      // Where the scan says the file is, its bytes are.
      deepEqual(archive.subarray(m.offset, m.offset + m.size), data, m.name);
      equal(m.digests.get("sha256"), createHash("sha256").update(data).digest("hex"));
      equal(m.digests.get("sha1"), createHash("sha1").update(data).digest("hex"));
    }
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("scanTar: truncated, not a tar, a name twice, a text too long: one VmError naming the file", async () => {
  const good = await tarOf([["a.ovf", bytes(600, 1)], ["d.vmdk", bytes(5000, 2)]]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated in a file", good.subarray(0, 3000), /the archive is truncated \(it ends inside a file\)/],
    ["truncated in a header", good.subarray(0, 200), /the archive is truncated/],
    ["random bytes", bytes(4096, 5).map((b) => b ^ 0x5a), /not a tar archive, or a damaged one/],
    ["twice", await tarOf([["x", bytes(1, 1)], ["./x", bytes(1, 1)]]), /holds two files named x/],
    [
      "long text",
      await tarOf([["a.ovf", bytes(1001, 1)]]),
      /a\.ovf is too large \(1001 bytes, at most 1000\)/,
    ],
  ];
  for (const [what, data, expected] of cases) {
    const path = Deno.makeTempFileSync({ suffix: ".ova" });
    try {
      Deno.writeFileSync(path, data);
      await rejects(
        scanTar(path, OPTS),
        (e: Error) => e instanceof VmError && e.message.startsWith(`${path}: `) && expected.test(e.message),
        what,
      );
    } finally {
      Deno.removeSync(path);
    }
  }
});

Deno.test("scanTar reads a big file through, in chunks, without keeping it", async () => {
  const path = Deno.makeTempFileSync({ suffix: ".ova" });
  try {
    const big = bytes(5 * 2 ** 20 + 17, 4);
    Deno.writeFileSync(path, await tarOf([["big.vmdk", big]]));
    const [m] = await scanTar(path, { ...OPTS, digestsOf: () => ["sha512"] });
    equal(m.digests.get("sha512"), createHash("sha512").update(big).digest("hex"));
    equal(m.digests.has("sha256"), false);
  } finally {
    Deno.removeSync(path);
  }
});
