/**
 * What a new user trips on (issue "Command-line polish"), on real QEMU:
 * vmup -n as a pasteable line, an installer CD that boots once, vmdown
 * saying what it waits for and taking a bare boot's image, vmmon's exit
 * status, a busy serial console, terminal queries in a followed log, an
 * image held by another VM, a runtime directory that is not private.
 */
import { equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { HEADLESS_TCG, readOr, Sandbox, SMALL_VM, waitFor } from "../helpers/vmtools.ts";

function settingsOf(home: string): string {
  return Deno.readTextFileSync(`${home}/vm.settings`);
}

Deno.test("vmup -n prints the QEMU command as one shell line that really starts the VM", async () => {
  const sb = new Sandbox();
  let qemu: Deno.ChildProcess | undefined;
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "pasted" });
    const home = `${sb.work}/it's a vm`;
    equal((await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "d.img", home)).code, 0);
    const r = await sb.run("vmup", "-n", home);
    equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    equal(lines.length, 1, r.stdout);
    match(lines[0], /^qemu-system-x86_64 .*'[^']*it'\\''s a vm\/monitor\.sock,server=on,wait=off'/);
    qemu = new Deno.Command("bash", { args: ["-c", `exec ${lines[0]}`], stdout: "null", stderr: "null" })
      .spawn();
    await waitFor(() => readOr(`${home}/serial.log`).includes("pasted"), 15000, "the pasted command's guest");
  } finally {
    try {
      qemu?.kill("SIGKILL");
      await qemu?.status;
    } catch { /* gone */ }
    await sb.cleanup();
  }
});

Deno.test("vmcreate -D: the installer CD boots once, the disk at every later start", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/disk.img`, { message: "from the disk" });
    await makeBootIso(`${sb.work}/cd.iso`, { message: "from the cd" });
    const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "disk.img", "-D", "cd.iso", "vm");
    equal(c.code, 0, c.stderr);
    const home = `${sb.work}/vm`;
    match(settingsOf(home), /^vm_boot_once=d$/m);
    ok(!/vm_boot_order/.test(settingsOf(home)));
    equal((await sb.run("vmup", "vm")).code, 0);
    await waitFor(() => readOr(`${home}/serial.log`).includes("from the cd"), 15000, "the CD boot");
    ok(!/vm_boot_once/.test(settingsOf(home)), "used once, then removed");
    equal((await sb.run("vmdown", "-k", "vm")).code, 0);
    equal((await sb.run("vmup", "vm")).code, 0);
    await waitFor(() => readOr(`${home}/serial.log`).includes("from the disk"), 15000, "the disk boot");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmdown says what it waits for, and stops a bare boot named by its image", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/boot.img`, { message: "bare" });
    const up = await sb.run("vmup", ...SMALL_VM, "boot.img");
    equal(up.code, 0, up.stderr);
    const dir = /files in (.*)$/m.exec(up.stderr)![1];
    const down = await sb.run("vmdown", "-o", "vm_qemu_shutdown_timeout=1", "./boot.img");
    equal(down.code, 0, down.stderr);
    match(down.stderr, /boot\.img: power button pressed; waiting up to 1 s for it to stop, then SIGTERM/);
    match(down.stderr, /terminated \(SIGTERM\)/);
    equal(readOr(`${dir}/qemu.json`), "", "its runtime directory is gone");
    const none = await sb.run("vmdown", "./boot.img");
    equal(none.code, 1);
    match(none.stderr, /boot\.img: not a VM home \(no vm\.settings\), nor booted bare by vmup/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup of a directory without vm.settings says it boots it as a FAT disk", async () => {
  const sb = new Sandbox();
  try {
    Deno.mkdirSync(`${sb.work}/empty`);
    const r = await sb.run("vmup", "-n", ...HEADLESS_TCG, "empty");
    equal(r.code, 0, r.stderr);
    match(r.stderr, /empty: no vm\.settings here: booting the directory as a FAT disk/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmmon: refused commands exit 1 on stderr; a busy serial console is named; -f filters terminal queries", async () => {
  const sb = new Sandbox();
  let holder: Deno.ChildProcess | undefined;
  let other: Deno.UnixConn | undefined;
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "ask\x1b[6n\x1b[cdone" });
    equal((await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "d.img", "vm")).code, 0);
    equal((await sb.run("vmup", "vm")).code, 0);
    const home = `${sb.work}/vm`;
    await waitFor(() => readOr(`${home}/serial.log`).includes("done"), 15000, "the guest");

    const mon = await sb.runWith({ stdin: "info status\nfoo\nstop 3\n" }, "vmmon", "vm");
    equal(mon.code, 1);
    equal(mon.stdout, "VM status: running\n");
    match(mon.stderr, /unknown command: 'foo'/);
    match(mon.stderr, /Try "help stop" for more information/);
    equal((await sb.runWith({ stdin: "info status\n" }, "vmmon", "vm")).code, 0);

    holder = sb.spawn({ stdin: "piped" }, "vmmon", "-s", "vm");
    await waitFor(
      () => {
        try {
          return Deno.lstatSync(`${home}/serial.sock.lock`).isFile;
        } catch {
          return false;
        }
      },
      10000,
      "the first console client",
    );
    const busy = await sb.runWith({ stdin: "" }, "vmmon", "-s", "vm");
    equal(busy.code, 1);
    match(
      busy.stderr,
      new RegExp(`the serial console is in use by process ${holder.pid} \\(another vmmon -s\\)`),
    );
    await holder.stdin.close();
    await holder.output();
    holder = undefined;

    other = await Deno.connect({ transport: "unix", path: `${home}/serial.sock` });
    await new Promise((r) => setTimeout(r, 300));
    const byOther = await sb.runWith({ stdin: "" }, "vmmon", "-s", "vm");
    equal(byOther.code, 1);
    match(byOther.stderr, /the serial console is in use by another program/);
    other.close();
    other = undefined;

    equal((await sb.run("vmdown", "-k", "vm")).code, 0);
    const f = await sb.run("vmmon", "-f", "vm");
    equal(f.code, 0, f.stderr);
    ok(readOr(`${home}/serial.log`).includes("\x1b[6n"), "the log keeps what the guest wrote");
    match(f.stdout, /askdone/);
    ok(!f.stdout.includes("\x1b"), "no terminal query reaches the terminal");
  } finally {
    other?.close();
    try {
      holder?.kill("SIGKILL");
    } catch { /* gone */ }
    await sb.cleanup();
  }
});

Deno.test("an image another VM holds is refused naming that VM", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/shared.img`, { message: "x" });
    equal((await sb.run("vmcreate", "-y", ...SMALL_VM, "-c", "shared.img", "owner")).code, 0);
    const r = await sb.run("vmup", "-s", ...SMALL_VM, "shared.img");
    equal(r.code, 1);
    ok(!r.stderr.includes("internal error"), r.stderr);
    match(r.stderr, /shared\.img: in use by the running VM 'owner' \([^)]*\/owner, pid \d+\); stop it first/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a runtime directory others can enter is refused in one line; vmcreate without a home uses the current directory", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "x" });
    Deno.mkdirSync(`${sb.dir}/run/vmtools`, { mode: 0o755 });
    Deno.chmodSync(`${sb.dir}/run/vmtools`, 0o755);
    const r = await sb.run("vmup", "-n", ...HEADLESS_TCG, "d.img");
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: ${sb.dir}/run/vmtools: not a private directory of this user; remove it or set XDG_RUNTIME_DIR\n`,
    );

    Deno.mkdirSync(`${sb.work}/here`);
    const c = await sb.runWith({ cwd: `${sb.work}/here` }, "vmcreate", "-y", "-n", "-c", "../d.img");
    equal(c.code, 0, c.stderr);
    match(settingsOf(`${sb.work}/here`), /vm_storage_hdd1_backend=.*\/d\.img/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("-q keeps vmcreate quiet on success; -qq silences even essentials", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "q" });
    const q = await sb.run("vmcreate", "-q", "-y", "-n", "-c", "d.img", "quiet");
    equal(q.code, 0, q.stderr);
    equal(q.stderr, "");
    equal(q.stdout, "");
    const up = await sb.run("vmup", "-q", ...SMALL_VM, "quiet");
    equal(up.code, 0, up.stderr);
    match(
      up.stderr,
      /^quiet: running \(pid \d+\), display vnc:\/\/127\.0\.0\.1:59\d\d\n$/,
      "the essential line stays",
    );
    const down = await sb.run("vmdown", "-qq", "-k", "quiet");
    equal(down.code, 0, down.stderr);
    equal(down.stderr, "");
  } finally {
    await sb.cleanup();
  }
});
