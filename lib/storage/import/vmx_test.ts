import { deepEqual, equal, throws } from "node:assert/strict";
import { VmError } from "../../errors.ts";
import { detectFormat } from "../inspect.ts";
import { parseVmx, readVmx } from "./vmx.ts";

/** Reading `name` in `dir` fails with a VmError whose message matches `pattern`. */
function refused(dir: string, name: string, pattern: RegExp): void {
  throws(() => readVmx(`${dir}/${name}`), (e: Error) => {
    equal(e instanceof VmError, true);
    equal(pattern.test(e.message), true, e.message);
    return true;
  });
}

const value = (text: string, key: string) => parseVmx(text, "m.vmx").get(key)?.value;

Deno.test("parseVmx reads quoted and bare values, |XX escapes, comments, keys in any case", () => {
  const text =
    '#!/usr/bin/vmware\n.encoding = "UTF-8"\r\n\n# a comment\n  displayName   =   "A |22quoted|22 |7C name"\n' +
    'scsi0:0.fileName = "C:\\new\\disk.vmdk"\nmemsize = 512\nempty = ""\n';
  const values = parseVmx(text, "m.vmx");
  deepEqual([...values.keys()], [".encoding", "displayname", "scsi0:0.filename", "memsize", "empty"]);
  equal(values.get("displayname")?.value, 'A "quoted" | name');
  equal(values.get("displayname")?.line, 5);
  // Backslashes are VMware's plain characters (npm's ini would read "\n" as a newline).
  equal(values.get("scsi0:0.filename")?.value, "C:\\new\\disk.vmdk");
  equal(value(text, "memsize"), "512");
  equal(value(text, "empty"), "");
  equal(value('a = "1"\nA = "2"\n', "a"), "2");
});

Deno.test("parseVmx names the file and line of a line it cannot read", () => {
  for (
    const [text, line] of [
      ['a = "1"\ngarbage\n', 2],
      ['a = "1"\n\n[section]\n', 3],
      ['a = "unterminated\n', 1],
      ['a = "x" "y"\n', 1],
      ["a = two words\n", 1],
      ['= "no key"\n', 1],
    ] as const
  ) {
    throws(() => parseVmx(text, "/vms/m.vmx"), (e: Error) => {
      equal(e instanceof VmError, true);
      equal(e.message.startsWith(`/vms/m.vmx:${line}: expected key = "value"`), true, e.message);
      return true;
    });
  }
});

/** A directory holding `files` (name → text). */
function dirWith(files: Record<string, string | Uint8Array>): string {
  const dir = Deno.makeTempDirSync();
  for (const [name, content] of Object.entries(files)) {
    Deno.mkdirSync(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    if (typeof content === "string") Deno.writeTextFileSync(`${dir}/${name}`, content);
    else Deno.writeFileSync(`${dir}/${name}`, content);
  }
  return dir;
}

const VMX = `.encoding = "UTF-8"
displayName = "Build  server"
memsize = "2048"
numvcpus = "4"
scsi0:1.present = "TRUE"
scsi0:1.fileName = "sub/data.vmdk"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "boot.vmdk"
ide1:0.present = "TRUE"
ide1:0.deviceType = "cdrom-image"
ide1:0.fileName = "install.iso"
sata0:1.present = "FALSE"
sata0:1.fileName = "gone.vmdk"
ethernet1.present = "TRUE"
ethernet1.generatedAddress = "00:0c:29:aa:bb:01"
ethernet0.present = "TRUE"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:0A:0B:0C"
ethernet0.generatedAddress = "00:0c:29:aa:bb:00"
ethernet2.present = "FALSE"
`;

Deno.test("readVmx: disks in file order, CD-ROMs and absent devices left out; name, memory, CPUs, NICs, MAC", () => {
  const dir = dirWith({ "m.vmx": VMX, "boot.vmdk": "x", "sub/data.vmdk": "x", "install.iso": "x" });
  try {
    const m = readVmx(`${dir}/m.vmx`);
    deepEqual(m.disks, [{ kind: "file", path: `${dir}/sub/data.vmdk` }, {
      kind: "file",
      path: `${dir}/boot.vmdk`,
    }]);
    equal(m.kind, "vmx");
    equal(m.name, "Build server");
    equal(m.memoryMiB, 2048);
    equal(m.cpus, 4);
    equal(m.nics, 2);
    // A static address wins over the generated one.
    equal(m.mac, "00:50:56:0a:0b:0c");
    equal(detectFormat(`${dir}/m.vmx`, VMX.length), "vmx");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readVmx: the generated MAC of the first NIC present; no NIC at all says 0", () => {
  const dir = dirWith({
    "a.vmx":
      'scsi0:0.fileName = "d.vmdk"\nethernet3.present = "TRUE"\nethernet3.generatedAddress = "00:0C:29:00:00:03"\n',
    "b.vmx": 'scsi0:0.fileName = "d.vmdk"\n',
    "d.vmdk": "x",
  });
  try {
    const a = readVmx(`${dir}/a.vmx`);
    equal(a.mac, "00:0c:29:00:00:03");
    equal(a.nics, 1);
    const b = readVmx(`${dir}/b.vmx`);
    equal(b.nics, 0);
    equal(b.mac, undefined);
    equal(b.memoryMiB, undefined);
    equal(b.name, undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readVmx: what does not fit is an error at its line", () => {
  const cases: [string, Record<string, string | Uint8Array>, RegExp][] = [
    [
      "missing disk",
      { "m.vmx": 'memsize = "64"\nscsi0:0.fileName = "nope.vmdk"\n' },
      /m\.vmx:2: scsi0:0\.filename = "nope\.vmdk": no such disk image/,
    ],
    [
      "memsize",
      { "m.vmx": 'memsize = "lots"\nscsi0:0.fileName = "d"\n', d: "x" },
      /m\.vmx:1: memsize = "lots": expected a number of MiB/,
    ],
    [
      "numvcpus",
      { "m.vmx": 'numvcpus = "0"\nscsi0:0.fileName = "d"\n', d: "x" },
      /m\.vmx:1: numvcpus = "0": expected a number of CPUs/,
    ],
    [
      "MAC",
      {
        "m.vmx": 'scsi0:0.fileName = "d"\nethernet0.present = "TRUE"\nethernet0.generatedAddress = "00:0c"\n',
        d: "x",
      },
      /m\.vmx:3: ethernet0\.generatedaddress = "00:0c": expected a MAC address/,
    ],
    ["no disk", { "m.vmx": 'memsize = "64"\n' }, /m\.vmx: names no hard disk/],
    [
      "binary",
      { "m.vmx": new Uint8Array([0x61, 0x0a, 0x62, 0, 0x63]) },
      /m\.vmx:2: not a \.vmx file \(binary data\)/,
    ],
    [
      "bad UTF-8",
      { "m.vmx": new Uint8Array([0x61, 0x20, 0x3d, 0x20, 0xff, 0x0a]) },
      /m\.vmx: not valid utf-8 text/,
    ],
    ["unknown charset", { "m.vmx": '.encoding = "klingon"\n' }, /m\.vmx: unknown character set 'klingon'/],
  ];
  for (const [what, files, expected] of cases) {
    const dir = dirWith(files);
    try {
      throws(
        () => readVmx(`${dir}/m.vmx`),
        (e: Error) => e instanceof VmError && expected.test(e.message),
        what,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test("readVmx decodes the character set .encoding names", () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode('.encoding = "windows-1252"\ndisplayName = "Caf'),
    0xe9,
    ...new TextEncoder().encode('"\nscsi0:0.fileName = "d"\n'),
  ]);
  const dir = dirWith({ "m.vmx": bytes, d: "x" });
  try {
    equal(readVmx(`${dir}/m.vmx`).name, "Café");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readVmx: disks and their extents must lie in the machine's folder, symbolic links followed", () => {
  const outside = dirWith({ "secret": "the user's own file" });
  const descriptor = (extent: string) =>
    `# Disk DescriptorFile\nversion=1\ncreateType="twoGbMaxExtentSparse"\n\nRW 4192256 SPARSE "${extent}"\n`;
  const dir = dirWith({
    "up.vmx": 'scsi0:0.fileName = "../elsewhere.vmdk"\n',
    "abs.vmx": `scsi0:0.fileName = "${outside}/secret"\n`,
    "link.vmx": 'scsi0:0.fileName = "link.vmdk"\n',
    "extent.vmx": 'displayName = "x"\nscsi0:0.fileName = "split.vmdk"\n',
    "good.vmx": 'scsi0:0.fileName = "sub/ok.vmdk"\n',
    "split.vmdk": descriptor(`${outside}/secret`),
    "sub/ok.vmdk": descriptor("ok-s001.vmdk"),
    "sub/ok-s001.vmdk": "x",
  });
  Deno.writeTextFileSync(`${dir}/../elsewhere.vmdk`.replace(/\/[^/]+\/\.\.\//, "/"), "x");
  Deno.symlinkSync(`${outside}/secret`, `${dir}/link.vmdk`);
  try {
    refused(
      dir,
      "up.vmx",
      /up\.vmx:1: scsi0:0\.filename = "\.\.\/elsewhere\.vmdk": .* lies outside the machine's folder/,
    );
    refused(dir, "abs.vmx", /abs\.vmx:1: .*secret lies outside the machine's folder/);
    refused(dir, "link.vmx", /link\.vmx:1: .*link\.vmdk \(-> .*secret\) lies outside the machine's folder/);
    refused(dir, "extent.vmx", /extent\.vmx:2: .*: its extent .*secret lies outside the machine's folder/);
    deepEqual(readVmx(`${dir}/good.vmx`).disks, [{ kind: "file", path: `${dir}/sub/ok.vmdk` }]);
  } finally {
    Deno.removeSync(`${dir}/../elsewhere.vmdk`.replace(/\/[^/]+\/\.\.\//, "/"));
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(outside, { recursive: true });
  }
});

Deno.test("readVmx: a disk's parent, data file or embedded descriptor must lie in the machine's folder too", async () => {
  const outside = dirWith({ "secret": "the user's own file" });
  const dir = dirWith({
    "parent.vmx": 'scsi0:0.fileName = "parent.qcow2"\n',
    "json.vmx": 'scsi0:0.fileName = "json.qcow2"\n',
    "data.vmx": 'scsi0:0.fileName = "data.qcow2"\n',
    "embedded.vmx": 'scsi0:0.fileName = "embedded.vmdk"\n',
    "hint.vmx": 'scsi0:0.fileName = "hint.vmdk"\n',
    "sparse-hint.vmx": 'scsi0:0.fileName = "sparse-hint.vmdk"\n',
    "sparse.vmx": 'scsi0:0.fileName = "sparse.vmdk"\n',
    "good.vmx": 'scsi0:0.fileName = "good.qcow2"\n',
    "base.raw": "x",
    "hint.vmdk": '# Disk DescriptorFile\nversion=1\nparentCID=1\ncreateType="monolithicSparse"\n' +
      `parentFileNameHint="${outside}/secret"\n\nRW 2048 SPARSE "base.raw"\n`,
  });
  const img = async (...args: string[]) => {
    const r = await new Deno.Command("qemu-img", { args, stdout: "null", stderr: "piped" }).output();
    if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  };
  const secret = `${outside}/secret`;
  try {
    await img("create", "-q", "-f", "qcow2", "-u", "-b", secret, "-F", "raw", `${dir}/parent.qcow2`, "1M");
    const json = JSON.stringify({ driver: "raw", file: { driver: "file", filename: secret } });
    await img(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-u",
      "-b",
      `json:${json}`,
      "-F",
      "raw",
      `${dir}/json.qcow2`,
      "1M",
    );
    await img("create", "-q", "-f", "qcow2", "-u", "-b", "base.raw", "-F", "raw", `${dir}/good.qcow2`, "1M");
    await img(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      `data_file=${dir}/data.raw,data_file_raw=on`,
      `${dir}/data.qcow2`,
      "1M",
    );
    // A sparse vmdk of no capacity: QEMU reads the descriptor inside it, whose extent is the user's file.
    await img("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse", `${dir}/embedded.vmdk`, "1M");
    const bytes = Deno.readFileSync(`${dir}/embedded.vmdk`);
    const view = new DataView(bytes.buffer);
    const at = Number(view.getBigUint64(28, true)) * 512, size = Number(view.getBigUint64(36, true)) * 512;
    view.setBigUint64(12, 0n, true);
    const descriptor =
      `# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 1 FLAT "${secret}" 0\n`;
    bytes.fill(0, at, at + size);
    bytes.set(new TextEncoder().encode(descriptor), at);
    Deno.writeFileSync(`${dir}/embedded.vmdk`, bytes);
    // A sparse vmdk whose embedded descriptor names a parent: QEMU opens it as the backing file.
    await img("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicSparse", `${dir}/sparse.vmdk`, "1M");
    const sparse = Deno.readFileSync(`${dir}/sparse.vmdk`);
    const embedded = sparse.subarray(at, at + size);
    const hinted = new TextDecoder().decode(embedded).replace(/\0+$/, "")
      .replace("parentCID=ffffffff", `parentCID=12345678\nparentFileNameHint="${outside}/other.vmdk"`);
    embedded.fill(0).set(new TextEncoder().encode(hinted));
    Deno.writeFileSync(`${dir}/sparse-hint.vmdk`, sparse);

    refused(
      dir,
      "parent.vmx",
      /parent\.vmx:1: .*: its extent or parent .*secret lies outside the machine's folder/,
    );
    refused(
      dir,
      "json.vmx",
      /json\.vmx:1: .*: its extent or parent json:.* lies outside the machine's folder/,
    );
    refused(
      dir,
      "data.vmx",
      /data\.vmx:1: .*data\.qcow2 keeps its data in an external file, which is not supported/,
    );
    refused(
      dir,
      "embedded.vmx",
      /embedded\.vmx:1: .*: its extent or parent .*secret lies outside the machine's folder/,
    );
    refused(
      dir,
      "hint.vmx",
      /hint\.vmx:1: .*: its extent or parent .*secret lies outside the machine's folder/,
    );
    refused(
      dir,
      "sparse-hint.vmx",
      /sparse-hint\.vmx:1: .*: its extent or parent .*other\.vmdk lies outside/,
    );
    deepEqual(readVmx(`${dir}/good.vmx`).disks, [{ kind: "file", path: `${dir}/good.qcow2` }]);
    deepEqual(readVmx(`${dir}/sparse.vmx`).disks, [{ kind: "file", path: `${dir}/sparse.vmdk` }]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(outside, { recursive: true });
  }
});
