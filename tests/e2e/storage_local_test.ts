/**
 * Local storage QEMU gets beyond image files, under the shipped permission
 * set (which lets vmtools look at nothing below /dev itself): block devices
 * (loop devices, so root only; skipped with a message otherwise) boot as
 * raw disks, a mounted one is refused, one the user may read but not write
 * gets snapshot mode; directories too big for a virtual FAT disk are
 * refused naming their size; ISO images made of directories never pile up.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { QmpClient } from "../../lib/qmp/client.ts";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HEADLESS_TCG, readOr, type RunResult, Sandbox, waitFor } from "../helpers/vmtools.ts";
import { exists } from "../../lib/fs.ts";

/** Loop devices need root, and a kernel (or container) that offers them. */
const canLoop = Deno.uid() === 0 &&
  new Deno.Command("losetup", { args: ["-f"], stdout: "null", stderr: "null" }).outputSync().success;
if (!canLoop) {
  console.log(
    "storage_local_test: no loop devices (not root, or none here): the block device tests are skipped",
  );
}

/** Runs a program the test needs, failing with what it said. */
function sh(program: string, ...args: string[]): string {
  const out = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${program} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout).trim();
}

/** Attaches `file` to a free loop device (`-r`: read-only) for the length of `fn`. */
async function withLoop(file: string, opts: string[], fn: (dev: string) => Promise<void>): Promise<void> {
  const dev = sh("losetup", ...opts, "-f", "--show", file);
  try {
    await fn(dev);
  } finally {
    sh("losetup", "-d", dev);
  }
}

/** The runtime directory a bare vmup reported. */
function filesDir(r: RunResult): string {
  const dir = /files in (.*)$/m.exec(r.stderr)?.[1];
  if (!dir) throw new Error(`vmup did not say where its files are: ${r.stderr}`);
  return dir;
}

/** The `-drive` values of the command `vmup -n` printed (as shell words: quotes taken off). */
function drives(stdout: string): string[] {
  return [...stdout.matchAll(/-drive (\S+)/g)].map((m) => m[1].replace(/^'(.*)'$/, "$1"));
}

async function query<T>(monitor: string, command: string): Promise<T> {
  const qmp = await QmpClient.connect(monitor, { timeoutMs: 5000 });
  try {
    return await qmp.execute<T>(command);
  } finally {
    qmp.close();
  }
}

Deno.test({
  name:
    "vmup boots a loop device as a raw disk; a mounted one is refused; a read-only one runs in snapshot mode",
  ignore: !canLoop,
  async fn() {
    const sb = new Sandbox();
    try {
      const image = `${sb.dir}/boot.img`;
      await makeBootSectorDisk(image, { message: "hello from a block device", sizeMiB: 4 });
      await withLoop(image, [], async (dev) => {
        const r = await sb.run("vmup", ...HEADLESS_TCG, dev);
        equal(r.code, 0, r.stderr);
        const dir = filesDir(r);
        await waitFor(
          () => readOr(`${dir}/serial.log`).includes("hello from a block device"),
          30_000,
          "the boot message",
        );
        const blocks = await query<
          { device: string; inserted?: { file: string; ro: boolean; drv: string } }[]
        >(
          `${dir}/monitor.sock`,
          "query-block",
        );
        const hdd = blocks.find((b) => b.device === "hdd1")?.inserted;
        deepEqual([hdd?.file, hdd?.ro, hdd?.drv], [dev, false, "raw"]);
        equal((await sb.run("vmdown", "-k", dir)).code, 0);
      });

      const fs = `${sb.dir}/fs.img`;
      Deno.writeFileSync(fs, new Uint8Array(0));
      Deno.truncateSync(fs, 8 * 2 ** 20);
      sh("mkfs.ext2", "-q", "-F", fs);
      const mnt = `${sb.dir}/mnt`;
      Deno.mkdirSync(mnt);
      await withLoop(fs, [], async (dev) => {
        sh("mount", dev, mnt);
        try {
          const r = await sb.run("vmup", "-s", ...HEADLESS_TCG, dev);
          equal(r.code, 1);
          equal(
            r.stderr,
            `vmup: hdd1 (${dev}): in use on this host (${dev} is mounted on ${mnt}); a VM must not share a disk with it\n`,
          );
          // A CD-ROM drive only reads: a disc the host has mounted may go to a guest too.
          const cd = await sb.run("vmup", "-n", ...HEADLESS_TCG, "-d", dev, image);
          equal(cd.code, 0, cd.stderr);
        } finally {
          sh("umount", mnt);
        }
      });

      await withLoop(image, ["-r"], async (dev) => {
        const r = await sb.run("vmup", ...HEADLESS_TCG, dev);
        equal(r.code, 0, r.stderr);
        match(
          r.stderr,
          new RegExp(
            `^vmup: warning: hdd1 \\(${dev}\\): read-only for you \\(the kernel holds it read-only\\): the guest's writes go to a throwaway overlay \\(snapshot mode\\)$`,
            "m",
          ),
        );
        const dir = filesDir(r);
        await waitFor(
          () => readOr(`${dir}/serial.log`).includes("hello from a block device"),
          30_000,
          "the boot message",
        );
        equal((await sb.run("vmdown", "-k", dir)).code, 0);
        const rw = await sb.run("vmup", ...HEADLESS_TCG, `rw:${dev}`);
        equal(rw.code, 1);
        equal(
          rw.stderr,
          `vmup: hdd1 (${dev}): rw: asked, but the kernel holds it read-only; use snap: or ro:\n`,
        );
        const quiet = await sb.run("vmup", "-n", "-s", ...HEADLESS_TCG, dev);
        equal(quiet.code, 0, quiet.stderr);
        equal(quiet.stderr, "", "no warning where snapshot mode was asked anyway");
      });

      const none = await sb.run("vmup", ...HEADLESS_TCG, "/dev/vmtools-no-such-disk");
      deepEqual([none.code, none.stderr], [
        1,
        "vmup: /dev/vmtools-no-such-disk: no such file or directory\n",
      ]);
    } finally {
      await sb.cleanup();
    }
  },
});

/** A user id of its own for this run (no name: only the disk group needs one, for lsblk to show). */
const OTHER_UID = 40000 + Math.floor(Math.random() * 20000);
const DISK_GID = 6; // Debian's "disk"

Deno.test({
  name:
    "a device the user reads through a supplementary group but may not write runs in snapshot mode; without the group it is refused",
  ignore: !canLoop,
  async fn() {
    const sb = new Sandbox();
    try {
      const image = `${sb.dir}/boot.img`;
      await makeBootSectorDisk(image, { message: "x" });
      sh("chown", "-R", `${OTHER_UID}:${OTHER_UID}`, sb.dir);
      await withLoop(image, [], async (dev) => {
        // The device node outlives the test: its owner and mode are put back.
        const [owner, mode] = sh("stat", "-c", "%u:%g %a", dev).split(" ");
        sh("chown", "root:disk", dev);
        sh("chmod", "0640", dev);
        try {
          await checkAccess(dev);
        } finally {
          sh("chown", owner, dev);
          sh("chmod", mode, dev);
        }
      });
    } finally {
      await sb.cleanup();
    }

    async function checkAccess(dev: string) {
      const runAs = async (groups: string[]) => {
        const wrapper = ["setpriv", `--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, ...groups, "--"];
        const out = await sb.spawn({ wrapper }, "vmup", "-n", ...HEADLESS_TCG, dev).output();
        const dec = new TextDecoder();
        return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
      };
      const member = await runAs([`--groups=${DISK_GID}`]);
      equal(member.code, 0, member.stderr);
      match(
        member.stderr,
        new RegExp(
          `^vmup: warning: hdd1 \\(${dev}\\): read-only for you \\(you may not write it: root:disk brw-r-----\\)`,
          "m",
        ),
      );
      deepEqual(drives(member.stdout), [
        `file=${dev},format=raw,id=hdd1,snapshot=on,if=ide,index=0,media=disk`,
      ]);
      const stranger = await runAs(["--clear-groups"]);
      equal(stranger.code, 1);
      equal(
        stranger.stderr,
        `vmup: hdd1 (${dev}): you may not read this device (root:disk brw-r-----)\n`,
      );
    }
  },
});

Deno.test("a directory too big for a virtual FAT disk is refused naming its size; one that fits QEMU's disk exactly is taken", async () => {
  const sb = new Sandbox();
  try {
    const dir = `${sb.work}/files`;
    Deno.mkdirSync(dir);
    // Sparse files: sizes without the disk space.
    const big = `${dir}/big.bin`;
    Deno.writeFileSync(big, new Uint8Array(0));
    Deno.truncateSync(big, 600 * 2 ** 20);
    const r = await sb.run("vmup", ...HEADLESS_TCG, dir);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: hdd1 (${dir}): its files take 600.0 MiB, more than the 503.7 MiB a virtual FAT disk (504 MiB) holds; ` +
        "use a disk image, or pass the directory as a CD-ROM (-d)\n",
    );
    deepEqual(entries(`${sb.dir}/run/vmtools`), [], "refused before a runtime directory was made");

    // The largest file QEMU 7.2 puts on its FAT disk, and one byte more: vmtools draws the line where QEMU does.
    const fits = 64_470 * 8192;
    Deno.truncateSync(big, fits);
    const ok = await sb.run("vmup", "-n", ...HEADLESS_TCG, dir);
    equal(ok.code, 0, ok.stderr);
    equal(qemuImgOpens(`fat:${dir}`), true);
    Deno.truncateSync(big, fits + 1);
    const over = await sb.run("vmup", "-n", ...HEADLESS_TCG, dir);
    equal(over.code, 1);
    // One byte over takes a cluster more.
    match(over.stderr, /its files take 528146432 bytes, more than the 528138240 bytes a virtual FAT disk/);
    equal(qemuImgOpens(`fat:${dir}`), false);
    // As a CD-ROM the same directory becomes an ISO image: no such limit.
    Deno.truncateSync(big, 600 * 2 ** 20);
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const cd = await sb.run("vmup", "-n", ...HEADLESS_TCG, "-d", dir, disk);
    equal(cd.code, 0, cd.stderr);
  } finally {
    await sb.cleanup();
  }
});

/** The names in a directory, sorted; none when it does not exist. */
function entries(dir: string): string[] {
  try {
    return Deno.readDirSync(dir).toArray().map((e) => e.name).sort();
  } catch {
    return [];
  }
}

function qemuImgOpens(file: string): boolean {
  return new Deno.Command("qemu-img", { args: ["info", "-f", "raw", file], stdout: "null", stderr: "null" })
    .outputSync().success;
}

Deno.test("ISO images of directories never pile up: gone once QEMU has them, and a start or vmfix -d removes what a killed vmup left", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const files = `${sb.work}/files`;
    sb.write("work/files/README.TXT", "on the CD\n");
    const c = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", disk, "-d", files, "vm");
    equal(c.code, 0, c.stderr);
    const home = `${sb.work}/vm`;
    const isos = () =>
      Deno.readDirSync(home).toArray().map((e) => e.name).filter((n) => n.endsWith(".iso")).sort();
    const leftover = (hex: string) => sb.write(`${home}/.cdrom-${hex}.iso`, "half made");

    leftover("0123456789abcdef");
    const halfSeed = sb.write(`${home}/cidata.iso.tmp-4242`, "half written");
    const up = await sb.run("vmup", home);
    equal(up.code, 0, up.stderr);
    deepEqual(isos(), [], "the left-over is removed at the start, the new ISO once QEMU has opened it");
    equal(exists(halfSeed), false, "a half-written file of a killed command is removed at the start");
    const blocks = await query<{ device: string; inserted?: { file: string; ro: boolean } }[]>(
      `${home}/monitor.sock`,
      "query-block",
    );
    const cdrom = blocks.find((b) => b.inserted?.file.includes(".cdrom-"))?.inserted;
    equal(cdrom?.ro, true, "the guest has the directory's ISO in its CD-ROM drive");

    // A vmup killed between making the ISO and starting QEMU leaves one; vmfix -d finds it, running VM or not.
    const left = leftover("fedcba9876543210");
    const halfVars = sb.write(`${home}/efivars.fd.tmp-77`, "half written");
    const check = await sb.run("vmfix", "-dn", home);
    equal(check.code, 1);
    equal(check.stdout, `${home}: files left by a command that was cut short: ${left}, ${halfVars}\n`);
    deepEqual(isos(), [".cdrom-fedcba9876543210.iso"]);
    const fix = await sb.run("vmfix", "-d", home);
    equal(fix.code, 0, fix.stderr);
    equal(
      fix.stdout,
      `${home}: files left by a command that was cut short: ${left}, ${halfVars} (repaired)\n`,
    );
    deepEqual(isos(), []);
    equal(exists(halfVars), false);
    equal((await sb.run("vmdown", "-k", home)).code, 0);

    // Not every .iso is ours: a user's file of a similar name stays.
    sb.write(`${home}/.cdrom-mine.iso`, "mine");
    sb.write(`${home}/notes.tmp-old`, "mine");
    equal((await sb.run("vmfix", "-d", home)).stdout, "");
    equal((await sb.run("vmup", "-n", home)).code, 0);
    deepEqual(isos(), [".cdrom-mine.iso"]);
    equal(exists(`${home}/notes.tmp-old`), true);
  } finally {
    await sb.cleanup();
  }
});
