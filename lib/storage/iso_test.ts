import { deepEqual, equal, match, notEqual } from "node:assert/strict";
import { Logger } from "../ui/log.ts";
import { buildIso, isoApplicationId, isoDigest, makeIsoImage } from "./iso.ts";

const quiet = new Logger("test", -1, { out() {}, err() {}, errIsTerminal: false, inIsTerminal: false });

Deno.test("genisoimage makes an ISO 9660 image of a directory", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/src`);
    Deno.writeTextFileSync(`${dir}/src/hello.txt`, "hello\n");
    await buildIso(`${dir}/src`, `${dir}/out.iso`, quiet);
    const iso = Deno.readFileSync(`${dir}/out.iso`);
    // The primary volume descriptor: sector 16, "CD001" after its type byte.
    equal(new TextDecoder().decode(iso.subarray(16 * 2048 + 1, 16 * 2048 + 6)), "CD001");
    equal(new TextDecoder().decode(iso).includes("hello"), true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an ISO image of a few files is made once and kept while they stay the same", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const target = `${dir}/seed.iso`;
    const files = {
      "user-data": "#cloud-config\n",
      "meta-data": new TextEncoder().encode("instance-id: a\n"),
    };
    equal(await makeIsoImage(target, "cidata", files, quiet), true);
    const first = Deno.statSync(target);
    equal(first.mode! & 0o777, 0o600);
    const iso = Deno.readFileSync(target);
    equal(new TextDecoder().decode(iso.subarray(16 * 2048 + 40, 16 * 2048 + 46)), "cidata");
    match(isoApplicationId(target)!, /^vmtools-sha256:[0-9a-f]{64}$/);

    // The same files in another order: nothing is written.
    equal(
      await makeIsoImage(target, "cidata", {
        "meta-data": "instance-id: a\n",
        "user-data": "#cloud-config\n",
      }, quiet),
      false,
    );
    equal(Deno.statSync(target).ino, first.ino);
    // One byte changed, or the label: made afresh.
    equal(await makeIsoImage(target, "cidata", { ...files, "user-data": "#cloud-config \n" }, quiet), true);
    notEqual(Deno.statSync(target).ino, first.ino);
    equal(await makeIsoImage(target, "CIDATA", { ...files, "user-data": "#cloud-config \n" }, quiet), true);
    deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["seed.iso"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a file that is no ISO image has no application identifier", () => {
  const dir = Deno.makeTempDirSync();
  try {
    equal(isoApplicationId(`${dir}/missing.iso`), undefined);
    Deno.writeTextFileSync(`${dir}/short.iso`, "not an image");
    equal(isoApplicationId(`${dir}/short.iso`), undefined);
    Deno.writeFileSync(`${dir}/zeros.iso`, new Uint8Array(40000));
    equal(isoApplicationId(`${dir}/zeros.iso`), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the digest of an image's files does not depend on their order, and names count", async () => {
  equal(await isoDigest("l", { a: "1", b: "2" }), await isoDigest("l", { b: "2", a: "1" }));
  notEqual(await isoDigest("l", { a: "12" }), await isoDigest("l", { a1: "2" }));
  notEqual(await isoDigest("l", { a: "1" }), await isoDigest("m", { a: "1" }));
});
