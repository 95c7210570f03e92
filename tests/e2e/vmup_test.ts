/**
 * vmup boots real guests under QEMU (TCG): raw and qcow2 boot-sector disks
 * and an El Torito ISO print on the serial line, and QMP reports them running.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { QmpClient } from "../../lib/qmp/client.ts";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { HEADLESS_TCG, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** Boots `path` bare and returns the runtime directory vmup reported. */
async function bootBare(
  sb: Sandbox,
  path: string,
  ...extra: string[]
): Promise<string> {
  const r = await sb.run("vmup", ...HEADLESS_TCG, ...extra, path);
  equal(r.code, 0, r.stderr);
  const dir = /files in (.*)$/m.exec(r.stderr)?.[1];
  if (!dir) {
    throw new Error(`vmup did not say where its files are: ${r.stderr}`);
  }
  return dir;
}

async function status(monitor: string): Promise<string> {
  const qmp = await QmpClient.connect(monitor, { timeoutMs: 5000 });
  try {
    return (await qmp.execute<{ status: string }>("query-status")).status;
  } finally {
    qmp.close();
  }
}

for (const format of ["raw", "qcow2"] as const) {
  Deno.test(`vmup boots a ${format} boot-sector disk and the guest prints on its serial line`, async () => {
    const sb = new Sandbox();
    try {
      const disk = `${sb.work}/disk.${format === "raw" ? "img" : "qcow2"}`;
      await makeBootSectorDisk(disk, {
        message: `hello from ${format}`,
        format,
      });
      const dir = await bootBare(sb, disk);
      await waitFor(
        () => readOr(`${dir}/serial.log`).includes(`hello from ${format}`),
        15000,
        "the guest's message",
      );
      equal(await status(`${dir}/monitor.sock`), "running");
      match(readOr(`${dir}/qemu.pid`), /^\d+\n?$/);
    } finally {
      await sb.cleanup();
    }
  });
}

Deno.test("vmup boots an El Torito ISO as a CD-ROM", async () => {
  const sb = new Sandbox();
  try {
    const iso = `${sb.work}/boot.iso`;
    await makeBootIso(iso, { message: "hello from the CD" });
    const dir = await bootBare(sb, iso);
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes("hello from the CD"),
      15000,
      "the guest's message",
    );
    const qmp = await QmpClient.connect(`${dir}/monitor.sock`, {
      timeoutMs: 5000,
    });
    try {
      const blocks = await qmp.execute<
        { device: string; inserted?: { ro: boolean; file: string } }[]
      >("query-block");
      const cd = blocks.find((b) => b.inserted?.file === iso);
      equal(cd?.inserted?.ro, true);
    } finally {
      qmp.close();
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup never starts a running VM twice and reports the VNC address QEMU picked", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "once" });
    const c = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      "-o",
      "vm_qemu_accel=tcg",
      "-o",
      "vm_display_type=vnc",
      "-c",
      disk,
      "vm",
    );
    equal(c.code, 0, c.stderr);
    const first = await sb.run("vmup", "vm");
    equal(first.code, 0, first.stderr);
    match(
      first.stderr,
      /vm: running \(pid \d+\), display vnc:\/\/127\.0\.0\.1:59\d\d/,
    );
    const second = await sb.run("vmup", "vm");
    equal(second.code, 0, "starting a running VM is not an error");
    match(second.stderr, /^vm: already running \(pid \d+\), not started again$/m);
    const ps = await new Deno.Command("ps", { args: ["-e", "-ww", "-o", "args="], stdout: "piped" }).output();
    const mine = new TextDecoder().decode(ps.stdout).split("\n").filter((l) =>
      l.includes(`${sb.work}/vm/qemu.pid`)
    );
    equal(mine.length, 1, "only one QEMU runs for the VM");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup -n prepares without booting and -s/-r cap the disk access", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const snap = await sb.run("vmup", "-n", "-vvv", "-s", ...HEADLESS_TCG, disk);
    equal(snap.code, 0, snap.stderr);
    match(
      snap.stderr,
      /would run .*-drive file=[^ ]*d\.img,format=raw,id=hdd1,snapshot=on/,
    );
    const ro = await sb.run("vmup", "-n", "-r", ...HEADLESS_TCG, disk);
    equal(ro.code, 1);
    match(ro.stderr, /hdd1 .*IDE disks cannot be read-only/);
    const virtio = await sb.run(
      "vmup",
      "-n",
      "-vvv",
      "-r",
      ...HEADLESS_TCG,
      "-o",
      "vm_storage_hdd_interface=virtio",
      disk,
    );
    equal(virtio.code, 0, virtio.stderr);
    match(virtio.stderr, /readonly=on,if=virtio/);
    equal(
      [...Deno.readDirSync(`${sb.dir}/run/vmtools`)].length,
      0,
      "-n leaves no runtime directory",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup names a missing image and exits 1", async () => {
  const sb = new Sandbox();
  try {
    const r = await sb.run("vmup", "nope.img");
    equal(r.code, 1);
    equal(r.stderr, "vmup: nope.img: no such file or directory\n");
    const u = await sb.run("vmup", "-x");
    equal(u.code, 2);
    match(u.stderr, /unknown option '-x'/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup -i keeps QEMU in the foreground with its monitor on stdin/stdout", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "fg" });
    const r = await sb.runWith({ stdin: "info status\nquit\n" }, "vmup", "-i", ...HEADLESS_TCG, disk);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /VM status: running/);
    equal([...Deno.readDirSync(`${sb.dir}/run/vmtools`)].length, 0, "the runtime directory is removed after");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup waits cfg_limit_waitlock for a VM locked by a live process, then gives up", async () => {
  const sb = new Sandbox();
  let holder: Deno.ChildProcess | undefined;
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "locked" });
    equal((await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", disk, "vm")).code, 0);
    const lock = `${sb.work}/vm/.vm.settings.lock`;
    // Another process holds the VM's lock (an flock, as vmtools takes it) and names itself in it.
    holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = Deno.openSync(${JSON.stringify(lock)}, { write: true, create: true }); f.lockSync(true);
         f.writeSync(new TextEncoder().encode(Deno.pid + "\\n")); console.log("held"); setInterval(() => {}, 1000);`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    const r = await sb.run("vmup", "-o", "cfg_limit_waitlock=1", "vm");
    equal(r.code, 1);
    match(r.stderr, new RegExp(`vm/\\.vm\\.settings\\.lock: locked by process ${holder.pid} \\(waited 1s`));
    holder.kill("SIGKILL");
    await holder.output();
    const again = await sb.run("vmup", "-n", "vm");
    equal(again.code, 0, `a dead holder's lock is free: ${again.stderr}`);
  } finally {
    try {
      holder?.kill("SIGKILL");
    } catch { /* already dead */ }
    await sb.cleanup();
  }
});

Deno.test("SPICE displays of VMs started together get distinct ports", async () => {
  const sb = new Sandbox();
  try {
    const disks = [1, 2, 3].map((i) => `${sb.work}/s${i}.img`);
    for (const d of disks) await makeBootSectorDisk(d, { message: "spice" });
    const r = await sb.run(
      "vmup",
      "-o",
      "vm_qemu_accel=tcg",
      "-o",
      "vm_display_type=spice",
      "-o",
      "vm_display_portmin=5960",
      ...disks,
    );
    equal(r.code, 0, r.stderr);
    const ports = [...r.stderr.matchAll(/display spice:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
    equal(ports.length, 3, r.stderr);
    equal(new Set(ports).size, 3, `distinct ports: ${ports}`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a VM home too deep for a unix socket path is refused with a clear message", async () => {
  const sb = new Sandbox();
  try {
    const deep = `${sb.work}/${"d".repeat(60)}/${"e".repeat(40)}`;
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "deep" });
    // vmcreate refuses a home that could never start, before making anything.
    const c = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", `${sb.work}/d.img`, deep);
    equal(c.code, 1);
    match(c.stderr, /monitor\.sock: too long for a unix socket \(\d+ bytes, at most 107\)/);
    deepEqual([...Deno.readDirSync(sb.work)].map((e) => e.name), ["d.img"]);
    // A home made by hand is refused by vmup with the same message.
    sb.write(`${deep}/vm.settings`, "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=../../d.img\n");
    const r = await sb.run("vmup", deep);
    equal(r.code, 1);
    match(r.stderr, /monitor\.sock: too long for a unix socket \(\d+ bytes, at most 107\)/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("display auto opens a window where a display server is set, and falls back to VNC when it cannot", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const r = await sb.runWith(
      { env: { DISPLAY: ":99" } },
      "vmup",
      "-o",
      "vm_qemu_accel=tcg",
      disk,
    );
    equal(r.code, 0, r.stderr);
    match(r.stderr, /no window could be opened on this display; serving VNC instead/);
    match(r.stderr, /display vnc:\/\/127\.0\.0\.1:59\d\d/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a directory boots as a FAT disk, and as a CD-ROM through an ISO made on the fly", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "dirs" });
    sb.write("work/files/hello.txt", "hello\n");
    const fat = await sb.run("vmup", "-n", "-vvv", ...HEADLESS_TCG, `${sb.work}/files`);
    equal(fat.code, 0, fat.stderr);
    match(fat.stderr, /-drive file=fat:[^ ]*\/files,format=raw,id=hdd1,snapshot=on/);
    const r = await sb.run("vmup", ...HEADLESS_TCG, "-d", `${sb.work}/files`, disk);
    equal(r.code, 0, r.stderr);
    const dir = /files in (.*)$/m.exec(r.stderr)![1];
    const qmp = await QmpClient.connect(`${dir}/monitor.sock`, { timeoutMs: 5000 });
    try {
      const blocks = await qmp.execute<{ inserted?: { file: string; ro: boolean } }[]>("query-block");
      const cd = blocks.find((b) => b.inserted?.file.endsWith(".iso"));
      equal(cd?.inserted?.ro, true);
      let exists = true;
      try {
        Deno.statSync(cd!.inserted!.file);
      } catch {
        exists = false;
      }
      equal(exists, false, "the ISO file is gone once QEMU holds it open");
    } finally {
      qmp.close();
    }
  } finally {
    await sb.cleanup();
  }
});
