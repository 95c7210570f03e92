import { match, throws } from "node:assert/strict";
import { Settings } from "../settings/settings.ts";
import { enabledDrives } from "./drives.ts";
import { inspectStorage } from "./inspect.ts";
import { checkChain, ReachCheck } from "./reach.ts";

/** The reach checks of every enabled drive, as vmup's storage checks make them. */
function checkReach(settings: Settings, dir: string): void {
  const check = new ReachCheck(settings);
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
    // A fork may name its parent's files (the tree's own links).
    checkReach(settingsWith(`${d}/vm/own.qcow2`, "vm", `${d}/vm/kid`), `${d}/vm/kid`);
    throws(
      () => checkReach(settingsWith("../other/disk.qcow2", "vm"), `${d}/vm`),
      (e: Error) => {
        match(
          e.message,
          /^hdd1 \(.*other\/disk.qcow2\): lies in the VM home .*other, another VM's, and would be written/,
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
