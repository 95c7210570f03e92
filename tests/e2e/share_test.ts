/**
 * Shared folders with a real Linux guest: `vmup -v -S DIR -S ro:DIR` prints
 * the guest's mount command; the guest mounts both shares with it from its
 * serial shell, reads what the host put there, writes a file the host then
 * reads, and is refused the write to the read-only one (QEMU refuses it,
 * whatever the guest's mount options). A missing directory, and a VM home
 * whose own settings share a directory outside it, are one line each;
 * vminfo lists the shares.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { GUEST_READY_LINE, linuxGuestIso } from "../fixtures/linux.ts";
import { readOr, Sandbox, SMALL_VM, waitFor } from "../helpers/vmtools.ts";

/** Boots, shell and 9p under TCG take long on a busy 2-core machine. */
const GUEST_MS = 240_000;

/** Sends a line to the guest's serial shell. */
async function type(sb: Sandbox, dir: string, line: string): Promise<void> {
  const r = await sb.runWith({ stdin: `${line}\n` }, "vmmon", "-s", dir);
  equal(r.code, 0, r.stderr);
}

Deno.test({
  name: "a Linux guest mounts a share, writes into it, and cannot write into a read-only one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const iso = await linuxGuestIso();
    const sb = new Sandbox();
    let dir = "";
    try {
      // A short name keeps the runtime directory's sockets within 108 bytes.
      Deno.symlinkSync(iso, `${sb.work}/g.iso`);
      Deno.mkdirSync(`${sb.work}/rw`);
      Deno.mkdirSync(`${sb.work}/ro`);
      Deno.writeTextFileSync(`${sb.work}/rw/host.txt`, "from-the-host\n");
      Deno.writeTextFileSync(`${sb.work}/ro/host.txt`, "read-only-host\n");
      const up = await sb.run(
        "vmup",
        "-v",
        "-y",
        "-S",
        "rw",
        "-S",
        "ro:ro",
        "-o",
        "vm_qemu_accel=tcg",
        "-o",
        "vm_ram_size=256M",
        "-o",
        "vm_display_type=vnc",
        "g.iso",
      );
      equal(up.code, 0, up.stderr);
      dir = /files in (.+)$/m.exec(up.stderr)?.[1] ?? "";
      ok(dir, `no runtime directory in: ${up.stderr}`);
      const mounts = [
        ...up.stderr.matchAll(/^(share\d): (.*) \((read-write|read-only)\); in the guest: (.*)$/gm),
      ];
      deepEqual(mounts.map((m) => [m[1], m[2], m[3]]), [
        ["share1", `${sb.work}/rw`, "read-write"],
        ["share2", `${sb.work}/ro`, "read-only"],
      ]);
      equal(
        mounts[0][4],
        "mkdir -p /mnt/share1 && mount -t 9p -o trans=virtio,version=9p2000.L share1 /mnt/share1",
      );
      await waitFor(
        () => readOr(`${dir}/serial.log`).includes(GUEST_READY_LINE),
        GUEST_MS,
        `${GUEST_READY_LINE} in ${dir}/serial.log`,
      );

      // The command vmup printed, as a user pastes it; $((…)) keeps the
      // shell's echo of the line from passing for its output.
      await type(
        sb,
        dir,
        `${
          mounts[0][4]
        } && cat /mnt/share1/host.txt && echo guest-wrote > /mnt/share1/guest.txt && echo RW-$((40+2))`,
      );
      await waitFor(() => readOr(`${dir}/serial.log`).includes("RW-42"), GUEST_MS, "RW-42 from the guest");
      match(readOr(`${dir}/serial.log`), /^from-the-host\r?$/m);
      equal(Deno.readTextFileSync(`${sb.work}/rw/guest.txt`), "guest-wrote\n");

      // Mounted without `ro`: the host side refuses the write all the same.
      await type(
        sb,
        dir,
        "mkdir -p /mnt/share2 && mount -t 9p -o trans=virtio,version=9p2000.L share2 /mnt/share2 && " +
          "cat /mnt/share2/host.txt && { echo x > /mnt/share2/guest.txt && echo RO-$((0+1)) || echo RO-$((0+0)); }",
      );
      await waitFor(
        () => /^RO-[01]\r?$/m.exec(readOr(`${dir}/serial.log`))?.[0],
        GUEST_MS,
        "RO-0 or RO-1 from the guest",
      );
      const log = readOr(`${dir}/serial.log`);
      match(log, /^read-only-host\r?$/m);
      match(log, /^RO-0\r?$/m, "the write into the read-only share failed");
      match(log, /Read-only file system/);
      equal(readOr(`${sb.work}/ro/guest.txt`), "");
      deepEqual([...Deno.readDirSync(`${sb.work}/ro`)].map((e) => e.name), ["host.txt"]);
    } finally {
      if (dir) await sb.run("vmdown", "-k", dir);
      await sb.cleanup();
    }
  },
});

Deno.test("a share that cannot be used is one line, before anything starts", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/disk.qcow2`;
    await new Deno.Command("qemu-img", { args: ["create", "-q", "-f", "qcow2", disk, "1M"] }).output();
    const missing = await sb.run("vmup", ...SMALL_VM, "-S", "nope", "disk.qcow2");
    equal(missing.code, 1);
    equal(missing.stderr, `vmup: -S: ${sb.work}/nope: no such directory\n`);
    deepEqual([...Deno.readDirSync(`${sb.dir}/run`)], [], "no runtime directory was made");

    // A VM home's own settings: a missing directory names the file and line.
    const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", disk, "vm");
    equal(c.code, 0, c.stderr);
    const settings = `${sb.work}/vm/vm.settings`;
    const lines = readOr(settings).split("\n").filter(Boolean).length;
    Deno.writeTextFileSync(settings, "vm_share1_path=gone\n", { append: true });
    const gone = await sb.run("vmup", "-n", "vm");
    equal(gone.code, 1);
    equal(
      gone.stderr,
      `vmup: ${settings}:${lines + 1}: vm_share1_path: ${sb.work}/vm/gone: no such directory\n`,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a VM home's own settings share only inside it, or below cfg_share_allow; vminfo shows why", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/disk.qcow2`;
    await new Deno.Command("qemu-img", { args: ["create", "-q", "-f", "qcow2", disk, "1M"] }).output();
    const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", disk, "vm");
    equal(c.code, 0, c.stderr);
    Deno.mkdirSync(`${sb.work}/vm/inside`);
    // What a home from someone else could hold: the user's whole home directory, read-write.
    const settings = `${sb.work}/vm/vm.settings`;
    Deno.writeTextFileSync(settings, `vm_share1_path=inside\nvm_share2_path='${sb.dir}/home'\n`, {
      append: true,
    });
    const line = readOr(settings).split("\n").filter(Boolean).length;

    const refused = await sb.run("vmup", "-n", "vm");
    equal(refused.code, 1);
    equal(refused.stdout, "");
    match(
      refused.stderr,
      new RegExp(
        `^vmup: ${settings}:${line}: vm_share2_path: ${sb.dir}/home: outside the VM home; .*cfg_share_allow.*\n$`,
      ),
    );
    const info = await sb.run("vminfo", "-b", "vm");
    equal(info.code, 0, info.stderr);
    match(info.stdout, /^share1=inside +# shared folder \(9p\)$/m);
    match(info.stdout, new RegExp(`^share1_location=${sb.work}/vm/inside$`, "m"));
    match(info.stdout, /^share1_access=rw\nshare1_tag=share1\nshare1_security=mapped-xattr\nshare1_mount=/m);
    match(info.stdout, /^share2_error='.*outside the VM home; /m);

    // The user allows the directory in their own configuration.
    sb.write("home/.config/vmtools/vmtools.conf", `cfg_share_allow='${sb.dir}/home'\n`);
    const allowed = await sb.run("vmup", "-n", "vm");
    equal(allowed.code, 0, allowed.stderr);
    match(allowed.stdout, new RegExp(`-virtfs local,path=${sb.dir}/home,mount_tag=share2,`));
    match(allowed.stdout, new RegExp(`-virtfs local,path=${sb.work}/vm/inside,mount_tag=share1,`));
    // -s: nothing the guest writes outlives the run, so the shares are read-only.
    const snap = await sb.run("vmup", "-n", "-s", "vm");
    equal(snap.code, 0, snap.stderr);
    equal(snap.stdout.match(/,readonly=on/g)?.length, 2);
    const infoSnap = await sb.run("vminfo", "-b", "-o", "vm_storage_rwmode=snap", "vm");
    match(infoSnap.stdout, /^share1_access=ro$/m);
  } finally {
    await sb.cleanup();
  }
});
