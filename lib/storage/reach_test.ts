import { match, throws } from "node:assert/strict";
import { Settings } from "../settings/settings.ts";
import { enabledDrives } from "./drives.ts";
import { inspectStorage } from "./inspect.ts";
import { StorageFacts } from "./preflight.ts";
import { checkChain, ReachCheck } from "./reach.ts";

/** The reach checks of every enabled drive, as vmup's storage checks make them. */
function checkReach(settings: Settings, dir: string): void {
  const check = new ReachCheck(settings, new StorageFacts());
  for (const drive of enabledDrives(settings, dir)) {
    if (drive.backend) check.drive(drive, inspectStorage(drive.backend, drive.base));
  }
}

async function qemuImg(...args: string[]): Promise<void> {
  const r = await new Deno.Command("qemu-img", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
}

/** A VM home at `dir` (a settings file, with a parent line when given). */
function home(dir: string, parent?: string): string {
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/vm.settings`, parent ? `parent '${parent}'\n` : "vm_name=x\n");
  return dir;
}

/** A qcow2 image at `path`, on `backing` (format `fmt`) when given; `-u` when the backing need not exist. */
async function qcow2(path: string, backing?: string, fmt = "qcow2", unsafe = false): Promise<string> {
  const b = backing ? ["-b", backing, "-F", fmt, ...(unsafe ? ["-u"] : [])] : [];
  await qemuImg("create", "-q", "-f", "qcow2", ...b, path, "1M");
  return path;
}

/** Runs `fn` in a fresh temporary directory. */
async function inTemp(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "vmtools-reach-" }));
  try {
    await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("overlays rest on any image by path or fetched URL; a symbolic link is followed", async () => {
  await inTemp(async (d) => {
    home(`${d}/base`);
    await qcow2(`${d}/base/disk.qcow2`);
    home(`${d}/base/fork`, "..");
    await qcow2(`${d}/base/fork/disk.qcow2`, "../disk.qcow2");
    Deno.symlinkSync(`${d}/base/fork`, `${d}/link`);
    await qcow2(`${d}/top.qcow2`, "link/disk.qcow2");
    checkChain("hdd1", `${d}/top.qcow2`);
    await qcow2(`${d}/web.qcow2`, "https://example.org/base.qcow2", "qcow2", true);
    checkChain("hdd1", `${d}/web.qcow2`);
  });
});

Deno.test("an external data file, a protocol name, a loop, a damaged header: refused, down the chain too", async () => {
  await inTemp(async (d) => {
    await qemuImg("create", "-q", "-f", "qcow2", "-o", `data_file=${d}/data.raw`, `${d}/ext.qcow2`, "1M");
    throws(
      () => checkChain("hdd1", `${d}/ext.qcow2`),
      /^VmError: hdd1: keeps its data in an external data file/,
    );
    await qcow2(`${d}/over-ext.qcow2`, "ext.qcow2");
    throws(
      () => checkChain("hdd1", `${d}/over-ext.qcow2`),
      /down its chain, in .*ext.qcow2\): keeps its data/,
    );

    const json = `json:{"driver":"raw","file":{"driver":"file","filename":"/etc/hostname"}}`;
    await qcow2(`${d}/json.qcow2`, json, "raw", true);
    throws(() => checkChain("hdd1", `${d}/json.qcow2`), /a name with a protocol vmtools does not follow/);
    await qcow2(`${d}/nbd.qcow2`, "nbd+unix:///x?socket=/tmp/s", "raw", true);
    throws(() => checkChain("hdd1", `${d}/nbd.qcow2`), /a name with a protocol/);

    await qcow2(`${d}/a.qcow2`, "b.qcow2", "qcow2", true);
    await qcow2(`${d}/b.qcow2`, "a.qcow2", "qcow2", true);
    throws(() => checkChain("hdd1", `${d}/a.qcow2`), /loops/);

    const bad = new Uint8Array(512);
    bad.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]);
    Deno.writeFileSync(`${d}/bad.qcow2`, bad);
    throws(() => checkChain("hdd1", `${d}/bad.qcow2`), /qcow2 header cannot be read/);
  });
});

Deno.test("names that resolve elsewhere than they read, QED backing files, odd bytes: as QEMU would open them", async () => {
  await inTemp(async (d) => {
    // `link/../x` is where `link` leads, then up: not `x` beside the image.
    Deno.mkdirSync(`${d}/sub/inner`, { recursive: true });
    Deno.symlinkSync(`${d}/sub/inner`, `${d}/link`);
    await qcow2(`${d}/sub/evil.qcow2`, "nbd://127.0.0.1:9/x", "raw", true);
    await qcow2(`${d}/evil.qcow2`);
    await qcow2(`${d}/top.qcow2`, "link/../evil.qcow2", "qcow2", true);
    throws(
      () => checkChain("hdd1", `${d}/top.qcow2`),
      /in .*link\/\.\.\/evil.qcow2\): its backing file is 'nbd:/,
    );

    await qemuImg(
      "create",
      "-q",
      "-f",
      "qed",
      "-u",
      "-b",
      "nbd://127.0.0.1:9/x",
      "-F",
      "raw",
      `${d}/q.qed`,
      "1M",
    );
    throws(() => checkChain("hdd1", `${d}/q.qed`), /its backing file is 'nbd:/);
    await qemuImg("create", "-q", "-f", "qed", `${d}/plain.qed`, "1M");
    checkChain("hdd1", `${d}/plain.qed`);

    // A backing name that is not UTF-8 is one line, not a crash; so is one with a newline.
    await qcow2(`${d}/bytes.qcow2`, "x\xff", "raw", true);
    const raw = Deno.readFileSync(`${d}/bytes.qcow2`);
    const at = raw.findIndex((_, i) => raw[i] === 0x78 && raw[i + 1] === 0xc3 && raw[i + 2] === 0xbf);
    if (at > 0) { // qemu-img stored "x" and U+00FF as UTF-8: put a lone 0xff byte there instead
      raw.set([0x78, 0xff, 0x2f], at);
      Deno.writeFileSync(`${d}/bytes.qcow2`, raw);
    }
    throws(() => checkChain("hdd1", `${d}/bytes.qcow2`), /qcow2 header cannot be read/);
    await qcow2(`${d}/nl.qcow2`, "json:{}\nsecond line", "raw", true);
    throws(() => checkChain("hdd1", `${d}/nl.qcow2`), (e: Error) => !e.message.includes("\n"));

    // A FIFO down the chain is not read (it would hang): QEMU says what it makes of it.
    new Deno.Command("mkfifo", { args: [`${d}/fifo`] }).outputSync();
    await qcow2(`${d}/over-fifo.qcow2`, "fifo", "raw", true);
    checkChain("hdd1", `${d}/over-fifo.qcow2`);
  });
});

Deno.test("a vmdk whose extent lies outside its folder is refused", async () => {
  await inTemp((d) => {
    Deno.mkdirSync(`${d}/m`);
    Deno.writeTextFileSync(`${d}/secret`, "x".repeat(512));
    const descriptor = (extent: string) =>
      `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n` +
      `RW 1 FLAT "${extent}" 0\n`;
    Deno.writeTextFileSync(`${d}/m/bad.vmdk`, descriptor("../secret"));
    throws(() => checkChain("hdd1", `${d}/m/bad.vmdk`), /extent \S*secret lies outside its folder/);
    Deno.writeTextFileSync(`${d}/m/flat.raw`, "x".repeat(512));
    Deno.writeTextFileSync(`${d}/m/good.vmdk`, descriptor("flat.raw"));
    checkChain("hdd1", `${d}/m/good.vmdk`);
    // Through a link and up, with a sign QEMU reads as a number, without the usual first line, too long.
    Deno.symlinkSync(`${d}/m`, `${d}/m/self`);
    Deno.writeTextFileSync(`${d}/m/up.vmdk`, descriptor("self/../../secret"));
    throws(() => checkChain("hdd1", `${d}/m/up.vmdk`), /extent \S*secret lies outside its folder/);
    Deno.writeTextFileSync(
      `${d}/m/plus.vmdk`,
      descriptor("x").replace('RW 1 FLAT "x"', 'RW +1 FLAT "../secret"'),
    );
    throws(() => checkChain("hdd1", `${d}/m/plus.vmdk`), /extent \S*secret lies outside its folder/);
    Deno.writeTextFileSync(
      `${d}/m/bare.vmdk`,
      'version=1\ncreateType="monolithicFlat"\nRW 1 FLAT "../secret" 0\n',
    );
    throws(() => checkChain("hdd1", `${d}/m/bare.vmdk`), /extent \S*secret lies outside its folder/);
    Deno.writeTextFileSync(`${d}/m/long.vmdk`, descriptor(`${"a/".repeat(300)}flat.raw`));
    throws(() => checkChain("hdd1", `${d}/m/long.vmdk`), /longer than QEMU reads/);
    // An extent below its folder but in another VM's home.
    home(`${d}/m/victim`);
    Deno.writeTextFileSync(`${d}/m/victim/disk.raw`, "x".repeat(512));
    Deno.writeTextFileSync(`${d}/m/into.vmdk`, descriptor("victim/disk.raw"));
    throws(
      () => checkChain("hdd1", `${d}/m/into.vmdk`),
      /extent \S*victim\/disk.raw lies in another VM's home/,
    );
  });
});

Deno.test("a VM's own settings may not write another VM's disk; they may read it, and -o may write it", async () => {
  await inTemp(async (d) => {
    home(`${d}/other`);
    await qcow2(`${d}/other/disk.qcow2`);
    home(`${d}/vm`);
    await qcow2(`${d}/vm/own.qcow2`);
    await qcow2(`${d}/free.qcow2`);
    home(`${d}/vm/kid`, "..");
    await qcow2(`${d}/vm/kid/disk.qcow2`, "../own.qcow2");
    const settingsWith = (backend: string, layer: "vm" | "parent" | "cmdline", vmHome = `${d}/vm`) => {
      const s = new Settings();
      s.set("cfg_file_vmsettings", "vm.settings");
      s.set("cfg_limit_nesting", "16");
      s.set("vm_home", vmHome);
      s.set("vm_storage_hdd1_enable", "yes");
      s.set("vm_storage_hdd1_backend", backend, { layer, file: `${vmHome}/vm.settings`, line: 3 });
      s.set("vm_storage_cdrom1_enable", "yes");
      return s;
    };
    checkReach(settingsWith("own.qcow2", "vm"), `${d}/vm`);
    checkReach(settingsWith(`${d}/free.qcow2`, "vm"), `${d}/vm`);
    // Not even a fork may write its parent's disk (it would change the parent and its siblings),
    // whether its own file names it or inherits it; reading it is fine.
    throws(
      () => checkReach(settingsWith(`${d}/vm/own.qcow2`, "vm", `${d}/vm/kid`), `${d}/vm/kid`),
      /not this VM's/,
    );
    throws(
      () => checkReach(settingsWith(`${d}/vm/own.qcow2`, "parent", `${d}/vm/kid`), `${d}/vm/kid`),
      /not this VM's/,
    );
    checkReach(settingsWith(`snap:${d}/vm/own.qcow2`, "parent", `${d}/vm/kid`), `${d}/vm/kid`);
    // A home that names the victim its parent gains nothing by it.
    Deno.writeTextFileSync(`${d}/vm/vm.settings`, "parent '../other'\n");
    throws(() => checkReach(settingsWith("rw:../other/disk.qcow2", "vm"), `${d}/vm`), /not this VM's/);
    Deno.writeTextFileSync(`${d}/vm/vm.settings`, "vm_name=x\n");
    // From inside the VM's own home (the current directory), a disk in no home is still its to write.
    const cwd = Deno.cwd();
    try {
      Deno.chdir(`${d}/vm`);
      checkReach(settingsWith(`${d}/free.qcow2`, "vm"), `${d}/vm`);
    } finally {
      Deno.chdir(cwd);
    }
    throws(
      () => checkReach(settingsWith("../other/disk.qcow2", "vm"), `${d}/vm`),
      (e: Error) => {
        match(
          e.message,
          /^hdd1 \(.*other\/disk.qcow2\): lies in the VM home .*other, not this VM's, and would be written/,
        );
        return true;
      },
    );
    // A parent may not write its child's disk either.
    throws(
      () => checkReach(settingsWith("kid/disk.qcow2", "vm"), `${d}/vm`),
      /lies in the VM home .*vm\/kid/,
    );
    // Through a symbolic link in its own home, and another VM's home as a read-write FAT disk.
    Deno.symlinkSync(`${d}/other/disk.qcow2`, `${d}/vm/link.qcow2`);
    throws(() => checkReach(settingsWith("link.qcow2", "vm"), `${d}/vm`), /lies in the VM home .*other/);
    throws(() => checkReach(settingsWith("rw:../other", "vm"), `${d}/vm`), /lies in the VM home .*other/);
    // A read-write FAT disk of a folder holding another VM's home, or a link out of it.
    Deno.mkdirSync(`${d}/vm/tree/deep`, { recursive: true });
    checkReach(settingsWith("rw:tree", "vm"), `${d}/vm`);
    Deno.symlinkSync(`${d}/other/disk.qcow2`, `${d}/vm/tree/deep/d.qcow2`);
    throws(
      () => checkReach(settingsWith("rw:tree", "vm"), `${d}/vm`),
      /holds the symbolic link .*deep\/d.qcow2/,
    );
    Deno.removeSync(`${d}/vm/tree/deep/d.qcow2`);
    home(`${d}/vm/tree/deep/hidden`);
    throws(() => checkReach(settingsWith("rw:tree", "vm"), `${d}/vm`), /holds the VM home .*hidden/);
    throws(() => checkReach(settingsWith(`rw:${d}`, "vm"), `${d}/vm`), /holds the (VM home|symbolic link)/);
    checkReach(settingsWith("snap:tree", "vm"), `${d}/vm`);
    // Reading is not writing; the user's own -o decides for itself.
    checkReach(settingsWith("snap:../other/disk.qcow2", "vm"), `${d}/vm`);
    checkReach(settingsWith("ro:../other/disk.qcow2", "parent"), `${d}/vm`);
    checkReach(settingsWith("../other", "vm"), `${d}/vm`);
    const capped = settingsWith("../other/disk.qcow2", "vm");
    capped.set("vm_storage_rwmode", "snap", { layer: "cmdline" });
    checkReach(capped, `${d}/vm`);
    checkReach(settingsWith("../other/disk.qcow2", "cmdline"), `${d}/vm`);
  });
});
