/**
 * A full disk is bad input like any other: one line naming where, exit 1,
 * and nothing left behind — no half-converted image, no backup directory,
 * no home that was being made. The small file system is a tmpfs mounted
 * for the test (root only; skipped with a message otherwise).
 * @module
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { type RunResult, Sandbox } from "../helpers/vmtools.ts";

/** Mounting a tmpfs needs root (and a kernel or container that lets it). */
function mountSmall(dir: string, size: string): boolean {
  Deno.mkdirSync(dir, { recursive: true });
  return new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

function unmount(dir: string): void {
  new Deno.Command("umount", { args: [dir], stdout: "null", stderr: "null" }).outputSync();
}

const canMount = Deno.uid() === 0 && (() => {
  const probe = Deno.makeTempDirSync({ prefix: "vmtools-mount-probe-" });
  const ok = mountSmall(probe, "1M");
  if (ok) unmount(probe);
  Deno.removeSync(probe, { recursive: true });
  return ok;
})();
if (!canMount) {
  console.log("full_disk_test: cannot mount a tmpfs (not root): the full disk tests are skipped");
}

/** Writes zeros into `dir` until its file system is full. */
function fill(dir: string): void {
  using f = Deno.openSync(`${dir}/filler`, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) f.writeSync(chunk);
  } catch { /* full */ }
}

function listing(dir: string): string[] {
  return Deno.readDirSync(dir).toArray().map((e) => e.name).sort();
}

/** Exit 1 and one error line saying the disk is full, with no stack trace. */
function fullDisk(r: RunResult, prog: string): void {
  equal(r.code, 1, r.stderr);
  // What it was doing may come first ("converting …"); the error is one line, and the last.
  const errors = r.stderr.split("\n").filter((l) => l.startsWith(`${prog}:`) || /^\s+at /.test(l));
  equal(errors.length, 1, r.stderr);
  match(errors[0], new RegExp(`^${prog}: .*No space left on device`));
  equal(r.stderr.endsWith(`${errors[0]}\n`), true, r.stderr);
}

Deno.test({
  name: "a full disk: conversions, copies, forks and new homes fail in one line and leave nothing behind",
  ignore: !canMount,
  async fn() {
    const sb = new Sandbox();
    const small = `${sb.dir}/small`;
    try {
      equal(mountSmall(small, "8M"), true);
      // A source image with 12 MB of data, as a vmdk (converted when it comes into a home).
      await makeBootSectorDisk(`${sb.work}/src.qcow2`, { message: "x", format: "qcow2", sizeMiB: 32 });
      const io = new Deno.Command("qemu-io", { args: ["-c", "write -P 7 1M 12M", `${sb.work}/src.qcow2`] });
      equal((await io.output()).success, true);
      const conv = new Deno.Command("qemu-img", {
        args: ["convert", "-O", "vmdk", `${sb.work}/src.qcow2`, `${sb.work}/big.vmdk`],
      });
      equal((await conv.output()).success, true);

      // The conversion runs out of room: the home it was making is gone.
      fullDisk(await sb.run("vmcreate", "-y", "-n", "-c", `${sb.work}/big.vmdk`, `${small}/vm`), "vmcreate");
      deepEqual(listing(small), []);

      // A small VM fits; a copy of it with its disk flattened does not.
      const made = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        "-o",
        "vm_storage_hdd1_createsize=8M",
        `${small}/base`,
      );
      equal(made.code, 0, made.stderr);
      const io2 = new Deno.Command("qemu-io", { args: ["-c", "write -P 1 0 5M", `${small}/base/hdd.qcow2`] });
      equal((await io2.output()).success, true);
      const base = listing(`${small}/base`);
      const settings = Deno.readTextFileSync(`${small}/base/vm.settings`);
      const copy = await sb.run("vmcp", "-a", `${small}/base`, `${small}/copy`);
      equal(copy.code, 1, copy.stderr);
      match(copy.stderr, /No space left on device/);
      deepEqual(listing(small), ["base"]);

      // Not a byte left: the journal of a fork, a copy or a new home cannot be written.
      fill(small);
      fullDisk(await sb.run("vmfork", `${small}/base`, `${small}/base/child`), "vmfork");
      fullDisk(await sb.run("vmcp", `${small}/base`, `${small}/copy`), "vmcp");
      fullDisk(await sb.run("vmcreate", "-y", "-n", `${small}/fresh`), "vmcreate");
      deepEqual(listing(small), ["base", "filler"]);
      deepEqual(listing(`${small}/base`), base, "no backup directory left in the source");
      equal(Deno.readTextFileSync(`${small}/base/vm.settings`), settings);

      // With room again, nothing needs repairing and the fork works.
      Deno.removeSync(`${small}/filler`);
      const fix = await sb.run("vmfix", "-An", "-r", small);
      equal(fix.code, 0, fix.stdout + fix.stderr);
      const fork = await sb.run("vmfork", `${small}/base`, `${small}/base/child`);
      equal(fork.code, 0, fork.stderr);
    } finally {
      unmount(small);
      await sb.cleanup();
    }
  },
});

/** Fills `dir` to the last page, then frees `pages` pages of 4 KiB. */
function fillLeaving(dir: string, pages: number): void {
  fill(dir);
  const filler = `${dir}/filler`;
  Deno.truncateSync(filler, Math.max(0, Deno.statSync(filler).size - pages * 4096));
}

Deno.test({
  name: "a full disk while a children list is saved for undo: the list stays whole",
  ignore: !canMount,
  async fn() {
    const sb = new Sandbox();
    const small = `${sb.dir}/small`;
    try {
      equal(mountSmall(small, "4M"), true);
      const made = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        "-o",
        "vm_storage_hdd1_createsize=1M",
        `${small}/base`,
      );
      equal(made.code, 0, made.stderr);
      // The children live on another file system: only the parent's side is short of room.
      const first = await sb.run("vmfork", `${small}/base`, `${sb.work}/c1`);
      equal(first.code, 0, first.stderr);
      const childs = Deno.readTextFileSync(`${small}/base/childs.lst`);
      // Room for the lock's note and the journal, none for the saved copy of childs.lst.
      for (const pages of [1, 2, 3]) {
        fillLeaving(small, pages);
        const r = await sb.run("vmfork", `${small}/base`, `${sb.work}/c2`);
        Deno.removeSync(`${small}/filler`);
        fullDisk(r, "vmfork");
        equal(Deno.readTextFileSync(`${small}/base/childs.lst`), childs, `with ${pages} page(s) free`);
        deepEqual(
          listing(`${small}/base`).filter((n) => n.startsWith("vmtools-")),
          [],
          "no backup directory left",
        );
      }
    } finally {
      unmount(small);
      await sb.cleanup();
    }
  },
});

Deno.test({
  name: "a tree on two file systems: vmrm -r leaves nothing; killed, a recovery on the far VM undoes it all",
  ignore: !canMount,
  async fn() {
    const sb = new Sandbox();
    const far = `${sb.dir}/far`;
    try {
      equal(mountSmall(far, "64M"), true);
      const base = `${sb.work}/base`, kid = `${far}/kid`;
      const made = await sb.run("vmcreate", "-y", "-n", "-o", "vm_storage_hdd1_createsize=1M", base);
      equal(made.code, 0, made.stderr);
      equal((await sb.run("vmfork", base, kid)).code, 0);
      const before = {
        base: listing(base),
        kid: listing(kid),
        settings: Deno.readTextFileSync(`${kid}/vm.settings`),
      };

      // Killed at every step; then a command on the far VM alone finds the journal and undoes the whole deletion.
      for (let step = 1;; step++) {
        const rm = await sb.runWith({ env: { VMTOOLS_FAULT: `${step}:kill` } }, "vmrm", "-y", "-r", base);
        if (rm.code === 0) {
          // Fewer steps than that: the whole deletion, which leaves nothing.
          equal(rm.stderr.includes("kept"), false, rm.stderr);
          deepEqual(listing(far), []);
          deepEqual(listing(sb.work).filter((n) => n === "base" || n.startsWith("vmtools-")), []);
          break;
        }
        equal(rm.code, 137, rm.stderr);
        // On the far VM alone; once the deletion moved it away, where it was.
        const fix = await sb.run("vmfix", "-b", listing(far).includes("kid") ? kid : far);
        equal(fix.code, 0, `step ${step}: ${fix.stdout}${fix.stderr}`);
        // A lock file a killed holder leaves is harmless (an flock): compared without it.
        const files = (dir: string) => listing(dir).filter((n) => n !== ".vm.settings.lock");
        deepEqual(files(kid), before.kid, `step ${step}: ${fix.stdout}${fix.stderr}`);
        equal(Deno.readTextFileSync(`${kid}/vm.settings`), before.settings, `step ${step}`);
        equal((await sb.run("vmfix", "-b", sb.work)).code, 0);
        deepEqual(files(base), before.base, `step ${step}`);
        deepEqual(listing(sb.work).filter((n) => n.startsWith("vmtools-")), [], `step ${step}`);
      }
    } finally {
      unmount(far);
      await sb.cleanup();
    }
  },
});
