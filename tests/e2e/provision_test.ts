/**
 * Scripted provisioning on real QEMU (issue 11): `vmup --wait` on the
 * guest's ready line (and its timeout, the VM left running), a port forward
 * from a free host port to the Linux guest's web server, a host port already
 * taken, `vmmon -s --expect` running a command in the guest, the `--json`
 * outputs field by field, and a user's own `-serial file:` in
 * `vm_qemu_params`.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { GUEST_HTTP_BODY, GUEST_READY_LINE, linuxGuestIso } from "../fixtures/linux.ts";
import { HEADLESS_TCG, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** A TCP port on 127.0.0.1 that nothing listens on (asked from the system, then let go). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function isSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch {
    return false;
  }
}

/** Command lines of the QEMU processes that mention the sandbox. */
async function qemusOf(sb: Sandbox): Promise<string[]> {
  const ps = await new Deno.Command("ps", { args: ["-e", "-ww", "-o", "args="], stdout: "piped" }).output();
  return new TextDecoder().decode(ps.stdout).split("\n").filter((l) =>
    l.includes("qemu-system") && l.includes(sb.dir)
  );
}

Deno.test("a Linux guest provisioned by a script: --json, --wait, a forward to its httpd, vmmon -s --expect", async () => {
  const iso = await linuxGuestIso();
  const sb = new Sandbox();
  try {
    Deno.symlinkSync(iso, `${sb.work}/g.iso`);
    const port = freePort();
    const rules = `tcp:127.0.0.1:${port}-:80 tcp:127.0.0.1:0-:80`;
    const home = `${sb.work}/web`;
    const made = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      "--json",
      ...HEADLESS_TCG,
      ...["-o", "vm_ram_size=256M", "-o", "vm_networking_iface1_enable=yes"],
      ...["-o", `vm_networking_iface1_hostfwd=${rules}`, "-D", "g.iso"],
      home,
    );
    equal(made.code, 0, made.stderr);
    const [created, ...more] = JSON.parse(made.stdout);
    equal(more.length, 0);
    equal(created.home, home);
    deepEqual(created.templates, []);
    equal(created.settings.vm_networking_iface1_hostfwd, rules);
    equal(created.settings.vm_storage_cdrom1_backend, `${sb.work}/g.iso`);
    equal(created.settings.vm_boot_once, "d");
    equal(created.settings.vm_qemu_accel, "tcg");
    equal(created.started, null);

    // Returns once the ready line is in the log, whenever that is.
    const up = await sb.run("vmup", "--wait", `^${GUEST_READY_LINE}$`, "--timeout", "600", "--json", home);
    equal(up.code, 0, up.stderr);
    match(up.stderr, new RegExp(`web: ready: ${GUEST_READY_LINE}`));
    ok(readOr(`${home}/serial.log`).includes(GUEST_READY_LINE));
    const [vm] = JSON.parse(up.stdout);
    equal(vm.name, "web");
    equal(vm.home, home);
    equal(typeof vm.pid, "number");
    equal(readOr(`${home}/qemu.pid`).trim(), String(vm.pid));
    equal(vm.display, "none");
    equal(vm.serial, `${home}/serial.sock`);
    ok(isSocket(vm.serial));
    equal(vm.log, `${home}/serial.log`);
    equal(vm.monitor, `${home}/monitor.sock`);
    ok(isSocket(vm.monitor));
    equal(vm.forwards.length, 2, up.stdout);
    const [fixed, picked] = vm.forwards;
    deepEqual(fixed, {
      iface: 1,
      protocol: "tcp",
      host: "127.0.0.1",
      hostPort: port,
      guest: "10.0.2.15",
      guestPort: 80,
    });
    deepEqual({ ...picked, hostPort: 0 }, { ...fixed, hostPort: 0 });
    ok(picked.hostPort > 0 && picked.hostPort !== port, `picked ${picked.hostPort}`);
    match(
      up.stderr,
      new RegExp(`web: port forward tcp:127\\.0\\.0\\.1:${picked.hostPort}-10\\.0\\.2\\.15:80`),
    );

    // Both forwards reach the guest's web server.
    for (const p of [port, picked.hostPort]) {
      const res = await fetch(`http://127.0.0.1:${p}/`);
      equal((await res.text()).trim(), GUEST_HTTP_BODY);
    }

    // vmps and vminfo read the forwards vmup recorded.
    const ps = await sb.run("vmps", "--json", "-d", home);
    equal(ps.code, 0, ps.stderr);
    deepEqual(JSON.parse(ps.stdout)[0].forwards, vm.forwards);
    const column = await sb.run("vmps", "-r", "-o", "f", "-d", home);
    equal(
      column.stdout,
      `tcp:127.0.0.1:${port}-10.0.2.15:80,tcp:127.0.0.1:${picked.hostPort}-10.0.2.15:80\n`,
    );
    const info = await sb.run("vminfo", "-i", "--json", home);
    deepEqual(JSON.parse(info.stdout).info.forwards, vm.forwards);
    match(
      (await sb.run("vminfo", "-i", home)).stdout,
      new RegExp(`^forwards='tcp:127\\.0\\.0\\.1:${port}-`, "m"),
    );

    // Already running: what it printed since it started counts.
    const again = await sb.run("vmup", "--wait", GUEST_READY_LINE, "--json", home);
    equal(again.code, 0, again.stderr);
    match(again.stderr, /already running/);
    equal(JSON.parse(again.stdout)[0].pid, vm.pid);
    deepEqual(JSON.parse(again.stdout)[0].forwards, vm.forwards);

    // A line never printed: exit 1 once the time is up, the VM left running.
    const late = await sb.run("vmup", "--wait", "never-printed-line", "--timeout", "2", home);
    equal(late.code, 1, late.stderr);
    match(
      late.stderr,
      /^vmup: web: no line matching \/never-printed-line\/ .*within 2 s; the VM is left running/m,
    );
    equal((await sb.run("vmps", "-n", "-d", home)).code, 0, "the VM keeps running");

    // A command in the guest's shell, and its answer.
    const answer = await sb.runWith(
      { stdin: "echo ans-$((6*7))\n" },
      "vmmon",
      "-s",
      "--expect",
      "^ans-42",
      "--timeout",
      "120",
      home,
    );
    equal(answer.code, 0, answer.stderr);
    match(answer.stdout, /^ans-42\r?$/m);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a host port already taken is one line naming it and the setting; nothing is left running", async () => {
  const sb = new Sandbox();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "unused" });
    const r = await sb.run(
      "vmup",
      ...HEADLESS_TCG,
      ...[
        "-o",
        "vm_networking_iface1_enable=yes",
        "-o",
        `vm_networking_iface1_hostfwd=tcp:127.0.0.1:${port}-:22`,
      ],
      "d.img",
    );
    equal(r.code, 1, r.stderr);
    equal(
      r.stderr,
      `vmup: host port 127.0.0.1:${port} (tcp) of the forward 'tcp:127.0.0.1:${port}-:22' ` +
        `(vm_networking_iface1_hostfwd) is already in use (or 127.0.0.1 is not an address of this host); ` +
        `choose another port, or 0 to let the system pick a free one\n`,
    );
    deepEqual(await qemusOf(sb), []);
  } finally {
    taken.close();
    await sb.cleanup();
  }
});

Deno.test("vmcreate --json of a started VM; --wait counts its log from the start and times out leaving it running", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "boot-sector-says-hello" });
    const home = `${sb.work}/bs`;
    const made = await sb.run("vmcreate", "-y", "--json", ...HEADLESS_TCG, "-c", "d.img", home);
    equal(made.code, 0, made.stderr);
    const [created] = JSON.parse(made.stdout);
    equal(created.home, home);
    equal(created.settings.vm_storage_hdd1_backend, `${sb.work}/d.img`);
    const started = created.started;
    equal(started.name, "bs");
    equal(started.home, home);
    equal(typeof started.pid, "number");
    equal(started.serial, `${home}/serial.sock`);
    equal(started.log, `${home}/serial.log`);
    equal(started.monitor, `${home}/monitor.sock`);
    deepEqual(started.forwards, []);
    // The message may be long printed by now: the log counts from the VM's start.
    const wait = await sb.run("vmup", "--wait", "says-hello$", "--timeout", "60", home);
    equal(wait.code, 0, wait.stderr);
    // A fresh start that never prints the line: exit 1 when the time is up, the VM left running.
    await makeBootSectorDisk(`${sb.work}/d2.img`, { message: "something else" });
    const other = `${sb.work}/quiet`;
    equal((await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "d2.img", other)).code, 0);
    const late = await sb.run("vmup", "--wait", "never", "--timeout", "1.5", "--json", other);
    equal(late.code, 1, late.stderr);
    match(
      late.stderr,
      /vmup: quiet: no line matching \/never\/ on the serial console within 1\.5 s; the VM is left running/,
    );
    equal(JSON.parse(late.stdout)[0].name, "quiet", "the VM is still described");
    equal((await sb.run("vmps", "-n", "-d", other)).code, 0);
    // Nothing to wait on: refused before starting.
    const none = await sb.run(
      "vmup",
      "--wait",
      "x",
      "-o",
      "vm_serial_mode=none",
      "-s",
      ...HEADLESS_TCG,
      "d.img",
    );
    equal(none.code, 1);
    match(none.stderr, /no serial log to wait on \(vm_serial_mode=none\); not started/);
    // Options that cannot go together are usage errors.
    for (
      const [args, message] of [
        [["--timeout", "3", home], "--timeout goes with --wait"],
        [["--wait", "(", home], "--wait '(': not a regular expression"],
        [["--json", "-n", home], "--json cannot go with -n"],
      ] as const
    ) {
      const r = await sb.run("vmup", ...args);
      equal(r.code, 2, r.stderr);
      ok(r.stderr.includes(message), r.stderr);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a user's own -serial file: in vm_qemu_params gets the guest's output; vmtools' console steps aside", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "to-the-users-file" });
    const log = `${sb.work}/guest.log`;
    const home = `${sb.work}/own`;
    equal(
      (await sb.run(
        "vmcreate",
        "-y",
        "-n",
        ...HEADLESS_TCG,
        "-o",
        `vm_qemu_params=-serial file:${log}`,
        "-c",
        "d.img",
        home,
      ))
        .code,
      0,
    );
    // Before: QEMU refused "Duplicate ID 'serial0' for chardev".
    const up = await sb.run("vmup", "-v", home);
    equal(up.code, 0, up.stderr);
    match(
      up.stderr,
      new RegExp(`vm_qemu_params give -serial file:${log}: vmtools' serial console .* steps aside`),
    );
    await waitFor(() => readOr(log).includes("to-the-users-file"), 60_000, `the guest's output in ${log}`);
    // vmup knows where the output goes: --wait reads the user's file.
    const r = await sb.run("vmup", "--wait", "to-the-users-file", "--timeout", "60", "--json", home);
    equal(r.code, 0, r.stderr);
    const [vm] = JSON.parse(r.stdout);
    equal(vm.serial, null);
    equal(vm.log, log);
    ok(!isSocket(`${home}/serial.sock`));
    // vmmon -f follows the user's file (before: it waited for a serial.log that never came).
    const follow = sb.spawn({}, "vmmon", "-f", home);
    const followed = follow.output();
    equal((await sb.run("vmdown", "-t", home)).code, 0);
    const f = await followed;
    equal(f.code, 0, new TextDecoder().decode(f.stderr));
    match(new TextDecoder().decode(f.stdout), /to-the-users-file/);
  } finally {
    await sb.cleanup();
  }
});
