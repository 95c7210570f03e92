import { deepEqual, equal, match, rejects } from "node:assert/strict";
import { VmError } from "../../errors.ts";
import { Logger, type Output } from "../../ui/log.ts";
import { bootVmdk, makeOva, manifestOf, ovfDescriptor, tarFiles } from "../../../tests/fixtures/ova.ts";
import { detectFormat } from "../inspect.ts";
import { readOva } from "./ova.ts";

const quiet: Output = { out: () => {}, err: () => {}, errIsTerminal: false, inIsTerminal: false };
const log = new Logger("test", 0, quiet);

async function qemuImg(...args: string[]): Promise<string> {
  const r = await new Deno.Command("qemu-img", { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (r.code !== 0) throw new Error(dec.decode(r.stderr));
  return dec.decode(r.stdout);
}

Deno.test("readOva: the machine of an appliance, its disk read by qemu-img in place", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await makeOva(`${dir}/a.ova`, {
      message: "hi",
      spec: { name: "Appliance One", memoryMiB: 48, cpus: 2, nics: 1 },
    });
    equal(detectFormat(`${dir}/a.ova`, Deno.statSync(`${dir}/a.ova`).size), "ova");
    // By content too: a tar whose first file is a descriptor, whatever its name.
    Deno.copyFileSync(`${dir}/a.ova`, `${dir}/a.tar`);
    equal(detectFormat(`${dir}/a.tar`, Deno.statSync(`${dir}/a.tar`).size), "ova");
    // And by name: a damaged .ova is read as one, to say what is wrong with it.
    Deno.writeTextFileSync(`${dir}/bad.ova`, "not a tar");
    equal(detectFormat(`${dir}/bad.ova`, 9), "ova");
    const m = await readOva(`${dir}/a.ova`, log);
    equal(m.kind, "ova");
    equal(m.name, "Appliance One");
    equal(m.memoryMiB, 48);
    equal(m.cpus, 2);
    equal(m.nics, 1);
    equal(m.disks.length, 1);
    const disk = m.disks[0];
    if (disk.kind !== "member") throw new Error(`not a member: ${disk.kind}`);
    equal(disk.name, "appliance-disk1.vmdk");
    equal(disk.format, "vmdk");
    // qemu-img reads the vmdk inside the archive: the same guest data as the disk it was made from.
    await bootVmdk(`${dir}/same.vmdk`, "hi");
    match(await qemuImg("compare", disk.image, `${dir}/same.vmdk`), /Images are identical/);
    match(await qemuImg("info", "--output=json", disk.image), /"format": "vmdk"/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readOva: an appliance without a manifest, with an empty disk and a SHA-1 manifest", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await makeOva(`${dir}/a.ova`, {
      message: "hi",
      noManifest: true,
      spec: { disks: [{ id: "boot", file: "b.vmdk", capacity: 1 }, { id: "data", capacity: 64 }] },
    });
    const m = await readOva(`${dir}/a.ova`, log);
    deepEqual(m.disks.map((d) => d.kind), ["member", "blank"]);
    deepEqual(m.disks[1], { kind: "blank", name: "data", bytes: 64 * 2 ** 20 });

    const parts = `${dir}/parts`;
    Deno.mkdirSync(parts);
    Deno.writeTextFileSync(
      `${parts}/x.ovf`,
      ovfDescriptor({ name: "x", memoryMiB: 32, cpus: 1, nics: 0, disks: [{ id: "d", file: "d.vmdk" }] }),
    );
    await bootVmdk(`${parts}/d.vmdk`, "x");
    Deno.writeTextFileSync(`${parts}/x.mf`, await manifestOf(parts, ["x.ovf", "d.vmdk"], "SHA1"));
    await tarFiles(`${dir}/sha1.ova`, parts, ["x.ovf", "x.mf", "d.vmdk"]);
    const s = await readOva(`${dir}/sha1.ova`, log);
    equal(s.nics, 0);
    equal(s.disks.length, 1);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readOva: every kind of broken appliance is one VmError naming it", async () => {
  const dir = Deno.makeTempDirSync();
  const parts = `${dir}/parts`;
  Deno.mkdirSync(parts);
  const ovf = (file: string, extra = "") =>
    ovfDescriptor({ name: "x", memoryMiB: 32, cpus: 1, nics: 0, disks: [{ id: "d", file }] }).replace(
      'ovf:href="',
      `${extra}ovf:href="`,
    );
  try {
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        "a disk's digest differs",
        () =>
          makeOva(`${dir}/t.ova`, {
            message: "hi",
            editManifest: (t) => t.replace(/(vmdk\)= )(.)/, (_, a, c) => a + (c === "0" ? "1" : "0")),
          }),
        /checksum mismatch for appliance-disk1\.vmdk \(SHA256\)/,
      ],
      [
        "a disk missing",
        () => makeOva(`${dir}/t.ova`, { message: "hi", leaveOut: ["appliance-disk1.vmdk"] }),
        /the descriptor names appliance-disk1\.vmdk, which the archive does not hold/,
      ],
      [
        "no descriptor",
        () => makeOva(`${dir}/t.ova`, { message: "hi", leaveOut: ["appliance.ovf"] }),
        /no OVF descriptor \(\.ovf file\) in the archive/,
      ],
      [
        "bad XML",
        () => makeOva(`${dir}/t.ova`, { message: "hi", descriptor: "<Envelope>\n<a>\n</Envelope>\n" }),
        /appliance\.ovf:3:1: not well-formed XML/,
      ],
      [
        "bad manifest",
        () => makeOva(`${dir}/t.ova`, { message: "hi", editManifest: () => "MD5(x)= 1\n" }),
        /appliance\.mf:1: expected 'SHA256\(FILE\)= DIGEST'/,
      ],
      [
        "compressed",
        async () => {
          Deno.writeTextFileSync(`${parts}/x.ovf`, ovf("d.vmdk", 'ovf:compression="gzip" '));
          await bootVmdk(`${parts}/d.vmdk`, "x");
          await tarFiles(`${dir}/t.ova`, parts, ["x.ovf", "d.vmdk"]);
        },
        /d\.vmdk is compressed \(gzip\), which is not supported/,
      ],
      [
        "a vmdk naming other files",
        async () => {
          Deno.writeTextFileSync(`${parts}/x.ovf`, ovf("d.vmdk"));
          Deno.writeTextFileSync(`${parts}/d.vmdk`, '# Disk DescriptorFile\nRW 2048 FLAT "/etc/passwd" 0\n');
          await tarFiles(`${dir}/t.ova`, parts, ["x.ovf", "d.vmdk"]);
        },
        /d\.vmdk is a vmdk image that refers to other files/,
      ],
      [
        "a sparse vmdk of no capacity, which QEMU reads as the descriptor inside it",
        async () => {
          Deno.writeTextFileSync(`${parts}/x.ovf`, ovf("d.vmdk"));
          await bootVmdk(`${parts}/d.vmdk`, "x", "monolithicSparse");
          const f = Deno.openSync(`${parts}/d.vmdk`, { write: true });
          f.seekSync(12, Deno.SeekMode.Start);
          f.writeSync(new Uint8Array(8)); // capacity 0
          f.close();
          await tarFiles(`${dir}/t.ova`, parts, ["x.ovf", "d.vmdk"]);
        },
        /d\.vmdk is a vmdk image that refers to other files/,
      ],
      [
        "a qcow2 whose data lies in a file of this host",
        async () => {
          Deno.writeTextFileSync(`${parts}/x.ovf`, ovf("d.qcow2"));
          await qemuImg(
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            `data_file=${dir}/secret,data_file_raw=on,preallocation=metadata`,
            `${parts}/d.qcow2`,
            "1M",
          );
          Deno.writeTextFileSync(`${dir}/secret`, "the user's own file\n");
          await tarFiles(`${dir}/t.ova`, parts, ["x.ovf", "d.qcow2"]);
        },
        /d\.qcow2 is a qcow2 image that refers to other files/,
      ],
      [
        "an ISO where a disk should be",
        async () => {
          Deno.writeTextFileSync(`${parts}/x.ovf`, ovf("d.iso"));
          const iso = new Uint8Array(0x9000);
          iso.set(new TextEncoder().encode("CD001"), 0x8001);
          Deno.writeFileSync(`${parts}/d.iso`, iso);
          await tarFiles(`${dir}/t.ova`, parts, ["x.ovf", "d.iso"]);
        },
        /d\.iso is not a disk image QEMU can convert \(iso\)/,
      ],
    ];
    for (const [what, make, expected] of cases) {
      await make();
      await rejects(
        readOva(`${dir}/t.ova`, log),
        (e: Error) =>
          e instanceof VmError && e.message.startsWith(`${dir}/t.ova: `) && expected.test(e.message),
        what,
      );
      Deno.removeSync(`${dir}/t.ova`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
