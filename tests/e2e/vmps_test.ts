/**
 * vmps lists running QEMU processes: VMs started by vmtools (homes and bare
 * boots) with their pid, name, home and display, and QEMUs started by hand.
 * Other tests boot VMs at the same time, so every listing here selects by
 * home or pid.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { readOr, Sandbox, SMALL_VM, waitFor } from "../helpers/vmtools.ts";

/** The lines of some output, trimmed (numbers are right-aligned). */
function lines(stdout: string): string[] {
  return stdout.split("\n").map((l) => l.trim());
}

/** Table rows (header dropped) split into columns. */
function rows(stdout: string): string[][] {
  return stdout.trimEnd().split("\n").slice(1).map((l) => l.trim().split(/ +/));
}

Deno.test("vmps shows pid, name, home and display; -o, -s, -r, -n, -p, -d, -u and --json", async () => {
  const sb = new Sandbox();
  try {
    for (const n of ["alpha", "beta", "gamma"]) {
      await makeBootSectorDisk(`${sb.work}/${n}.img`, { message: `hi ${n}` });
    }
    for (const n of ["alpha", "beta"]) {
      const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", `${n}.img`, n);
      equal(c.code, 0, c.stderr);
    }
    const up = await sb.run("vmup", "alpha", "beta");
    equal(up.code, 0, up.stderr);
    const bare = await sb.run("vmup", ...SMALL_VM, "gamma.img");
    equal(bare.code, 0, bare.stderr);
    const runDir = /files in (.*)$/m.exec(bare.stderr)![1];
    const alpha = `${sb.work}/alpha`, beta = `${sb.work}/beta`;
    const pid = (dir: string) => Number(readOr(`${dir}/qemu.pid`).trim());
    const pids = await waitFor(
      () => {
        const p = [alpha, beta, runDir].map(pid);
        return p.every((n) => n > 0) ? p : undefined;
      },
      10000,
      "the pid files",
    );

    const all = await sb.run("vmps", "-o", "pndh", "-d", alpha, beta, runDir);
    equal(all.code, 0, all.stderr);
    match(all.stdout, /^ *PID NAME +DISPLAY +HOME\n/);
    const table = rows(all.stdout);
    deepEqual(
      table.map((r) => [Number(r[0]), r[1], r[3]]),
      [
        [pids[0], "alpha", alpha],
        [pids[1], "beta", beta],
        [pids[2], "gamma.img", runDir],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    const displays = table.map((r) => r[2]);
    for (const d of displays) match(d, /^vnc:\/\/127\.0\.0\.1:59\d\d$/);
    equal(new Set(displays).size, 3);

    // Sorting: by name, then descending by name.
    const byName = await sb.run("vmps", "-r", "-s", "n", "-o", "n", "-d", alpha, beta, runDir);
    deepEqual(byName.stdout.trim().split("\n"), ["alpha", "beta", "gamma.img"]);
    const byNameDesc = await sb.run("vmps", "-r", "-s", "N", "-o", "n", "-d", alpha, beta, runDir);
    deepEqual(byNameDesc.stdout.trim().split("\n"), ["gamma.img", "beta", "alpha"]);

    // -r drops the header; -p selects by pid; the home may be given relative.
    const one = await sb.run("vmps", "-r", "-o", "p", "-d", "beta");
    equal(one.stdout, `${pids[1]}\n`);
    const byPid = await sb.run("vmps", "-r", "-o", "nq", "-p", String(pids[0]));
    deepEqual(rows("\n" + byPid.stdout), [["alpha", `${alpha}/monitor.sock`]]);

    // -n: the exit status only.
    const yes = await sb.run("vmps", "-n", "-d", alpha);
    equal(yes.code, 0);
    equal(yes.stdout, "");
    equal((await sb.run("vmps", "-nd", sb.work)).code, 1);
    equal((await sb.run("vmps", "-n", "-p", String(Deno.pid))).code, 1);

    // The default selection is the current user; -u selects by name or uid.
    const mine = await sb.run("vmps", "-r", "-o", "p");
    for (const p of pids) ok(lines(mine.stdout).includes(String(p)));
    const uid = await sb.run("vmps", "-r", "-o", "p", "-u", String(Deno.uid()));
    ok(lines(uid.stdout).includes(String(pids[0])));
    equal((await sb.run("vmps", "-n", "-u", "no-such-user-here")).code, 1);

    // --json: every key, unknowns as null.
    const json = await sb.run("vmps", "--json", "-p", String(pids[0]));
    equal(json.code, 0, json.stderr);
    const [vm] = JSON.parse(json.stdout);
    deepEqual(Object.keys(vm), [
      "pid",
      "name",
      "home",
      "display",
      "monitor",
      "user",
      "cpu",
      "mem",
      "cmdline",
      "forwards",
      "engine",
      "uri",
    ]);
    deepEqual(vm.forwards, []);
    equal(vm.pid, pids[0]);
    equal(vm.name, "alpha");
    equal(vm.home, alpha);
    equal(vm.monitor, `${alpha}/monitor.sock`);
    equal(vm.display, table.find((r) => Number(r[0]) === pids[0])![2]);
    ok(vm.mem > 0);
    match(vm.cmdline, /qemu-system-x86_64 .*-name alpha/);
    equal(vm.engine, "qemu");
    equal(vm.uri, null);
    deepEqual(JSON.parse((await sb.run("vmps", "--json", "-d", sb.work)).stdout), []);

    // Wrong usage.
    equal((await sb.run("vmps", "-o", "px")).code, 2);
    equal((await sb.run("vmps", "-a", "-d", alpha)).code, 2);
    equal((await sb.run("vmps", "stray")).code, 2);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmps lists QEMUs started by hand with what ps tells, never taking a monitor from their command line", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/a.img`, { message: "a" });
    await makeBootSectorDisk(`${sb.work}/b.img`, { message: "b" });
    const qemu = async (...args: string[]) => {
      const r = await new Deno.Command("qemu-system-x86_64", {
        args: ["-accel", "tcg", "-m", "16", "-nodefaults", "-daemonize", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(r.code, 0, new TextDecoder().decode(r.stderr));
    };
    // Only vmtools' own records say where a VM's home and monitor are: for
    // these, ps tells pid, user and figures, and -name is shown as a hint.
    await qemu(
      "-display",
      "none",
      "-name",
      "by,,hand",
      "-pidfile",
      `${sb.dir}/plain.pid`,
      "-drive",
      `file=${sb.work}/a.img,format=raw`,
    );
    // A monitor on its command line is not trusted: it could be anyone's.
    await qemu(
      "-display",
      "none",
      "-vnc",
      "127.0.0.1:0,to=99",
      "-qmp",
      `unix:${sb.dir}/qmp.sock,server=on,wait=off`,
      "-pidfile",
      `${sb.dir}/qmp.pid`,
      "-drive",
      `file=${sb.work}/b.img,format=raw`,
    );
    const plain = readOr(`${sb.dir}/plain.pid`).trim();
    const withQmp = readOr(`${sb.dir}/qmp.pid`).trim();

    const r = await sb.run("vmps", "--json", "-p", plain, withQmp);
    equal(r.code, 0, r.stderr);
    const [a, b] = JSON.parse(r.stdout);
    equal(a.pid, Number(plain));
    equal(a.name, "by,hand");
    equal(a.home, null);
    equal(a.monitor, null);
    equal(a.display, "none");
    equal(b.pid, Number(withQmp));
    equal(b.name, null);
    equal(b.home, null);
    equal(b.monitor, null);
    equal(b.display, "?");

    const t = await sb.run("vmps", "-r", "-o", "pnhq", "-p", plain);
    deepEqual(rows("\n" + t.stdout), [[plain, "by,hand", "?", "?"]]);

    // vmdown stops them by pid.
    const down = await sb.run("vmdown", "-k", "-p", plain, withQmp);
    equal(down.code, 0, down.stderr);
    equal((await sb.run("vmps", "-n", "-p", plain, withQmp)).code, 1);
  } finally {
    await sb.cleanup();
  }
});
