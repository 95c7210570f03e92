/**
 * vmdown stops real guests: the boot-sector guest ignores ACPI, so the power
 * button is tried and vmdown falls through to SIGTERM once
 * vm_qemu_shutdown_timeout has passed; -k, -s, -p and bare boots; the files
 * a VM leaves are tidied. `vmdown -a` stops every VM of the user, so that
 * test runs as a user of its own. A Linux guest really powers off on ACPI.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { GUEST_READY_LINE, linuxGuestIso } from "../fixtures/linux.ts";
import { readOr, type RunResult, Sandbox, SMALL_VM, waitFor } from "../helpers/vmtools.ts";

/** Makes a VM home `name` in the sandbox booting a boot-sector disk, and starts it. */
async function startHome(
  sb: Sandbox,
  name: string,
  ...settings: string[]
): Promise<string> {
  await makeBootSectorDisk(`${sb.work}/${name}.img`, { message: `hi ${name}` });
  const c = await sb.run(
    "vmcreate",
    "-y",
    "-n",
    ...SMALL_VM,
    ...settings,
    "-c",
    `${name}.img`,
    name,
  );
  equal(c.code, 0, c.stderr);
  const home = `${sb.work}/${name}`;
  const u = await sb.run("vmup", home);
  equal(u.code, 0, u.stderr);
  await waitFor(
    () => readOr(`${home}/serial.log`).includes(`hi ${name}`),
    15000,
    `the boot of ${name}`,
  );
  return home;
}

async function running(sb: Sandbox, home: string): Promise<boolean> {
  return (await sb.run("vmps", "-n", "-d", home)).code === 0;
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("vmdown tries the power button, then SIGTERM after vm_qemu_shutdown_timeout, and tidies the home", async () => {
  const sb = new Sandbox();
  try {
    const home = await startHome(sb, "vm", "-o", "vm_qemu_shutdown_timeout=2");
    const pid = readOr(`${home}/qemu.pid`).trim();
    const t0 = Date.now();
    const r = await sb.run("vmdown", "vm");
    const took = Date.now() - t0;
    equal(r.code, 0, r.stderr);
    match(r.stderr, /still running after the power button; trying SIGTERM/);
    match(r.stderr, new RegExp(`vm \\(pid ${pid}\\): terminated \\(SIGTERM\\)`));
    ok(took >= 2000 && took < 10000, `took ${took} ms`);
    equal(await running(sb, home), false);
    deepEqual(entries(home), ["serial.log", "vm.settings"]);

    const again = await sb.run("vmdown", home);
    equal(again.code, 1);
    match(again.stderr, /vm: not running/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmdown -s only asks, -sw reports a guest that ignores it, -k kills at once", async () => {
  const sb = new Sandbox();
  try {
    const home = await startHome(sb, "vm", "-o", "vm_qemu_shutdown_timeout=1");
    const s = await sb.run("vmdown", "-s", home);
    equal(s.code, 0, s.stderr);
    match(s.stderr, /power button pressed/);
    equal(await running(sb, home), true);

    const sw = await sb.run("vmdown", "-sw", home);
    equal(sw.code, 1);
    match(sw.stderr, /still running 1 s after the power button/);
    equal(await running(sb, home), true);

    const t0 = Date.now();
    const k = await sb.run("vmdown", "-k", home);
    equal(k.code, 0, k.stderr);
    match(k.stderr, /killed \(SIGKILL\)/);
    ok(Date.now() - t0 < 5000);
    equal(await running(sb, home), false);
    // SIGKILL leaves QEMU no chance to clean up: vmdown does.
    deepEqual(entries(home), ["serial.log", "vm.settings"]);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmdown -p stops a bare boot and removes its runtime directory; wrong targets exit 1", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/disk.img`, { message: "bare" });
    const up = await sb.run("vmup", ...SMALL_VM, "disk.img");
    equal(up.code, 0, up.stderr);
    const dir = /files in (.*)$/m.exec(up.stderr)![1];
    const pid = await waitFor(
      () => readOr(`${dir}/qemu.pid`).trim() || undefined,
      10000,
      "the pid file",
    );
    const r = await sb.run("vmdown", "-t", "-p", pid);
    equal(r.code, 0, r.stderr);
    equal((await sb.run("vmps", "-n", "-p", pid)).code, 1);
    deepEqual(entries(`${sb.dir}/run/vmtools`), []);

    // A runtime directory works as a home too.
    const up2 = await sb.run("vmup", ...SMALL_VM, "disk.img");
    equal(up2.code, 0, up2.stderr);
    const dir2 = /files in (.*)$/m.exec(up2.stderr)![1];
    const r2 = await sb.run("vmdown", "-k", dir2);
    equal(r2.code, 0, r2.stderr);
    deepEqual(entries(`${sb.dir}/run/vmtools`), []);

    const notQemu = await sb.run("vmdown", "-p", String(Deno.pid));
    equal(notQemu.code, 1);
    match(notQemu.stderr, new RegExp(`pid ${Deno.pid}: not a running QEMU`));
    const notHome = await sb.run("vmdown");
    equal(notHome.code, 1);
    match(notHome.stderr, new RegExp(`^vmdown: ${sb.work}: not a VM home`, "m"));
    const notHome2 = await sb.run("vmdown", "-k", "nowhere");
    equal(notHome2.code, 1);
    match(notHome2.stderr, /nowhere: not a VM home/);
    equal((await sb.run("vmdown", "-a", "-p", "1")).code, 2);
  } finally {
    await sb.cleanup();
  }
});

/** A user id of its own for this run, so `-a` reaches no other test's VM. */
const OWN_UID = 40000 + Math.floor(Math.random() * 20000);
const canSwitchUser = Deno.uid() === 0 &&
  (() => {
    try {
      return new Deno.Command("setpriv", { args: ["--version"] })
        .outputSync().success;
    } catch {
      return false;
    }
  })();

/** Runs a vmtools command as {@linkcode OWN_UID} (like Sandbox.run otherwise). */
async function runAsOwnUser(
  sb: Sandbox,
  command: string,
  ...args: string[]
): Promise<RunResult> {
  const wrapper = ["setpriv", `--reuid=${OWN_UID}`, `--regid=${OWN_UID}`, "--clear-groups", "--"];
  const out = await sb.spawn({ wrapper }, command, ...args).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "five VMs started by one vmup get five VNC ports; vmdown -a stops them all",
  ignore: !canSwitchUser,
  async fn() {
    const sb = new Sandbox();
    try {
      const disks = [1, 2, 3, 4, 5].map((i) => `d${i}.img`);
      for (const d of disks) {
        await makeBootSectorDisk(`${sb.work}/${d}`, { message: d });
      }
      await new Deno.Command("chown", {
        args: ["-R", `${OWN_UID}:${OWN_UID}`, sb.dir],
      }).output();
      const up = await runAsOwnUser(sb, "vmup", ...SMALL_VM, ...disks);
      equal(up.code, 0, up.stderr);

      const ps = await runAsOwnUser(sb, "vmps", "-r", "-o", "nd");
      equal(ps.code, 0, ps.stderr);
      const rows = ps.stdout.trim().split("\n").map((l) => l.split(/ +/));
      deepEqual(rows.map((r) => r[0]).sort(), disks);
      for (const [, d] of rows) match(d, /^vnc:\/\/127\.0\.0\.1:59\d\d$/);
      equal(new Set(rows.map((r) => r[1])).size, 5);

      const down = await runAsOwnUser(
        sb,
        "vmdown",
        "-a",
        "-o",
        "vm_qemu_shutdown_timeout=2",
      );
      equal(down.code, 0, down.stderr);
      equal(down.stderr.match(/terminated \(SIGTERM\)/g)?.length, 5);
      equal((await runAsOwnUser(sb, "vmps", "-n")).code, 1);
      deepEqual(entries(`${sb.dir}/run/vmtools`), []);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test({
  name: "vmdown -s -w: a Linux guest powers off on the ACPI power button",
  async fn() {
    const sb = new Sandbox();
    try {
      const iso = await linuxGuestIso();
      const c = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        "-o",
        "vm_qemu_accel=tcg",
        "-o",
        "vm_display_type=none",
        "-o",
        "vm_ram_size=256M",
        "-o",
        "vm_qemu_shutdown_timeout=60",
        "-D",
        iso,
        "linux",
      );
      equal(c.code, 0, c.stderr);
      const home = `${sb.work}/linux`;
      const u = await sb.run("vmup", home);
      equal(u.code, 0, u.stderr);
      await waitFor(
        () => readOr(`${home}/serial.log`).includes(GUEST_READY_LINE),
        120000,
        "the Linux guest",
      );
      const r = await sb.run("vmdown", "-s", "-w", home);
      equal(r.code, 0, r.stderr);
      match(r.stderr, /powered off by the guest/);
      match(readOr(`${home}/serial.log`), /power button pressed, powering off/);
      equal(await running(sb, home), false);
      ok(!entries(home).includes("qemu.pid"));
      ok(!entries(home).includes("monitor.sock"));
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("vmps -d and vmdown find VMs whose homes have awkward names", async () => {
  const sb = new Sandbox();
  try {
    for (const name of ["foo,,bar", "tab\there", "fóò", "a -n b", "-"]) {
      const disk = `${sb.work}/disk.img`;
      await makeBootSectorDisk(disk, { message: "hi" });
      const home = `${sb.work}/${name}`;
      const c = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        ...SMALL_VM,
        "-o",
        "vm_qemu_shutdown_timeout=1",
        "-c",
        disk,
        "--",
        home,
      );
      equal(c.code, 0, c.stderr);
      const u = await sb.run("vmup", "--", home);
      equal(u.code, 0, u.stderr);
      const pid = await waitFor(
        () => readOr(`${home}/qemu.pid`).trim() || undefined,
        10000,
        "the pid file",
      );
      const ps = await sb.run("vmps", "--json", "-d", home);
      const vms = JSON.parse(ps.stdout);
      equal(vms.length, 1, `${JSON.stringify(name)}: ${ps.stdout}${ps.stderr}`);
      equal(vms[0].pid, Number(pid));
      equal(vms[0].name, name);
      equal(vms[0].home, home);
      const d = await sb.run("vmdown", "--", home);
      equal(d.code, 0, `${JSON.stringify(name)}: ${d.stderr}`);
      match(d.stderr, /still running after the power button; trying SIGTERM/);
      deepEqual(entries(home), ["serial.log", "vm.settings"]);
    }
  } finally {
    await sb.cleanup();
  }
});
