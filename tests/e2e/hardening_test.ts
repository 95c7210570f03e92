/**
 * Faults an outside probe found (issue "Hardening"), each shown fixed on real
 * QEMU: a VM home cannot make QEMU run host commands, cannot pass for another
 * VM, concurrent and killed commands lose nothing, conversions never write
 * over a file.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HEADLESS_TCG, readOr, type RunResult, Sandbox, SMALL_VM, waitFor } from "../helpers/vmtools.ts";
import { exists } from "../../lib/fs.ts";

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function noInternalError(r: RunResult): void {
  ok(!r.stderr.includes("internal error"), r.stderr);
}

/** Processes whose command line mentions `text`, from ps. */
async function processesMentioning(text: string): Promise<string[]> {
  const ps = await new Deno.Command("ps", { args: ["-e", "-ww", "-o", "args="], stdout: "piped" }).output();
  return new TextDecoder().decode(ps.stdout).split("\n").filter((l) =>
    l.includes(text) && !l.startsWith("ps ")
  );
}

async function killQemusMentioning(text: string): Promise<void> {
  const ps = await new Deno.Command("ps", { args: ["-e", "-ww", "-o", "pid=,args="], stdout: "piped" })
    .output();
  for (const line of new TextDecoder().decode(ps.stdout).split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && m[2].includes("qemu-system") && m[2].includes(text)) Deno.kill(Number(m[1]), "SIGKILL");
  }
}

Deno.test("a VM home's settings cannot make QEMU run a host command (exec: migration, script= netdev)", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "x" });
    const mark = `${sb.dir}/exec-ran`;
    const script = sb.write("work/ifup.sh", `#!/bin/sh\ntouch '${sb.dir}/script-ran'\n`);
    Deno.chmodSync(script, 0o755);
    const disk = `vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=${sb.work}/d.img\n`;
    sb.write(
      "work/exec/vm.settings",
      `${disk}vm_qemu_params='-incoming '\\''exec:touch ${mark}'\\'\nvm_qemu_sandbox=no\n`,
    );
    sb.write(
      "work/script/vm.settings",
      `${disk}vm_networking_iface1_enable=yes\nvm_networking_iface1_mode='tap,script=${script},downscript=no'\n`,
    );
    for (const home of ["exec", "script"]) {
      const r = await sb.run("vmup", ...HEADLESS_TCG, home);
      equal(r.code, 1, r.stderr);
      noInternalError(r);
      await waitFor(
        async () => (await processesMentioning(`${sb.work}/${home}/`)).length === 0,
        5000,
        `no QEMU of ${home} to be left`,
      );
    }
    equal(exists(mark), false, "exec: did not run");
    equal(exists(`${sb.dir}/script-ran`), false, "script= did not run");
    const exec = await sb.run("vmup", ...HEADLESS_TCG, "exec");
    match(exec.stderr, /vm_qemu_sandbox=no is ignored: a VM's own settings cannot turn off QEMU's sandbox/);
    match(exec.stderr, /QEMU was stopped by its sandbox: .*-o vm_qemu_sandbox=no/);

    // The user can allow it for one start: then QEMU really runs the command (so the check above can fail).
    const allowed = await sb.run("vmup", ...HEADLESS_TCG, "-o", "vm_qemu_sandbox=no", "exec");
    equal(allowed.code, 0, allowed.stderr);
    await waitFor(() => exists(mark), 10000, "the exec: migration command");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a home named to look like another VM's monitor cannot make vmdown stop that VM, nor vmps misname it", async () => {
  const sb = new Sandbox();
  // Short paths, so that the impostor's sockets stay within the 107 bytes of sun_path.
  const top = Deno.makeTempDirSync({ dir: "/tmp", prefix: "vi" });
  try {
    await makeBootSectorDisk(`${top}/d.img`, { message: "hi" });
    const other = `${top}/o`;
    const impostor = `${top}/x -qmp unix:${other}/monitor.sock,y`;
    for (const home of [other, impostor]) {
      const c = await sb.run("vmcreate", "-y", ...SMALL_VM, "-s", "-c", `${top}/d.img`, home);
      equal(c.code, 0, c.stderr);
    }
    const list = async () => {
      const r = await sb.run("vmps", "--json");
      equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { home: string; name: string; monitor: string }[])
        .filter((v) => v.home?.startsWith(top))
        .map((v) => [v.home, v.name, v.monitor]).sort();
    };
    deepEqual(await list(), [
      [other, "o", `${other}/monitor.sock`],
      [impostor, "monitor.sock,y", `${impostor}/monitor.sock`],
    ]);
    const down = await sb.run("vmdown", "-k", other);
    equal(down.code, 0, down.stderr);
    deepEqual(await list(), [[impostor, "monitor.sock,y", `${impostor}/monitor.sock`]]);
    equal((await sb.run("vmps", "-n", "-d", other)).code, 1);
    equal((await sb.run("vmps", "-n", "-d", impostor)).code, 0);
    equal((await sb.run("vmdown", "-k", impostor)).code, 0);
  } finally {
    await sb.cleanup();
    await killQemusMentioning(top);
    Deno.removeSync(top, { recursive: true });
  }
});

Deno.test("a home whose serial log links to another file cannot make QEMU empty or write that file", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "guest output" });
    const home = `${sb.work}/vm`;
    sb.write("work/vm/vm.settings", `vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=${sb.work}/d.img\n`);
    const precious = sb.write("work/precious.txt", "precious\n");
    Deno.symlinkSync(precious, `${home}/serial.log`);
    const up = await sb.run("vmup", ...SMALL_VM, "-s", home);
    equal(up.code, 0, up.stderr);
    await waitFor(() => readOr(`${home}/serial.log`).includes("guest output"), 15000, "the guest's output");
    equal(Deno.lstatSync(`${home}/serial.log`).isSymlink, false, "the log is a file of its own");
    equal(readOr(precious), "precious\n");
    equal((await sb.run("vmdown", "-k", home)).code, 0);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a home cannot make QEMU write another VM's disk, nor a file its image names; it may read one", async () => {
  const sb = new Sandbox();
  try {
    const w = sb.work;
    await makeBootSectorDisk(`${w}/victim.qcow2`, { message: "victim", format: "qcow2" });
    equal((await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "victim.qcow2", "victim")).code, 0);
    equal((await sb.run("vmfork", "victim", "victim/kid")).code, 0);
    // Another VM's disk, by relative path and through a symbolic link in the intruder's own home.
    const kidDisk = [...Deno.readDirSync(`${w}/victim/kid`)].find((e) => e.name.endsWith(".qcow2"))!.name;
    sb.write(
      "work/intruder/vm.settings",
      `vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=../victim/kid/${kidDisk}\n`,
    );
    const up = await sb.run("vmup", ...HEADLESS_TCG, "intruder");
    equal(up.code, 1, up.stderr);
    match(
      up.stderr,
      /^vmup: hdd1 \(.*victim\/kid\/.*\): lies in the VM home .*victim\/kid, not this VM's, and would be written/m,
    );
    Deno.symlinkSync(`${w}/victim/kid/${kidDisk}`, `${w}/intruder/mine.qcow2`);
    sb.write("work/intruder/vm.settings", "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=mine.qcow2\n");
    match((await sb.run("vmup", ...HEADLESS_TCG, "intruder")).stderr, /lies in the VM home .*victim\/kid/);
    // Read in snapshot mode it boots, and the victim's disk is as it was.
    sb.write(
      "work/intruder/vm.settings",
      "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=snap:mine.qcow2\n",
    );
    const before = await sha256(`${w}/victim/kid/${kidDisk}`);
    const snap = await sb.run("vmup", ...HEADLESS_TCG, "intruder");
    equal(snap.code, 0, snap.stderr);
    await waitFor(() => readOr(`${w}/intruder/serial.log`).includes("victim"), 30_000, "the guest's line");
    equal((await sb.run("vmdown", "-k", "intruder")).code, 0);
    equal(await sha256(`${w}/victim/kid/${kidDisk}`), before);

    // An image handed over with an external data file: refused as a bare boot and in a home.
    const made = await new Deno.Command("qemu-img", {
      args: ["create", "-q", "-f", "qcow2", "-o", `data_file=${w}/precious.raw`, `${w}/gift.qcow2`, "1M"],
    }).output();
    ok(made.success);
    const bare = await sb.run("vmup", ...HEADLESS_TCG, "-n", "gift.qcow2");
    equal(bare.code, 1, bare.stderr);
    match(bare.stderr, /^vmup: gift\.qcow2: keeps its data in an external data file/m);
    // vmcreate refuses it before it asks or makes anything.
    const made2 = await sb.run("vmcreate", "-y", "-n", "-c", "gift.qcow2", "giftvm2");
    equal(made2.code, 1, made2.stderr);
    match(made2.stderr, /^vmcreate: gift\.qcow2: keeps its data in an external data file/m);
    equal(exists(`${w}/giftvm2`), false);
    noInternalError(bare);
    // In a home, and copied: a copy would read the file it names into a disk of its own.
    Deno.mkdirSync(`${w}/giftvm`);
    Deno.renameSync(`${w}/gift.qcow2`, `${w}/giftvm/gift.qcow2`);
    sb.write("work/giftvm/vm.settings", "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=gift.qcow2\n");
    match(
      (await sb.run("vmup", ...HEADLESS_TCG, "-n", "giftvm")).stderr,
      /keeps its data in an external data file/,
    );
    const cp = await sb.run("vmcp", "-a", "giftvm", "copy");
    equal(cp.code, 1, cp.stderr);
    match(cp.stderr, /gift.qcow2: keeps its data in an external data file/);
    noInternalError(cp);
    equal(exists(`${w}/copy`), false);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmdown racing vmup never reports a VM stopped that goes on running", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "race" });
    equal((await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "d.img", "vm")).code, 0);
    for (let i = 0; i < 8; i++) {
      const [up, down] = await Promise.all([sb.run("vmup", "vm"), sb.run("vmdown", "-k", "vm")]);
      equal(up.code, 0, up.stderr);
      const runs = (await sb.run("vmps", "-n", "-d", "vm")).code === 0;
      if (down.code === 0) equal(runs, false, `vmdown said: ${down.stderr}`);
      else {
        match(down.stderr, /not running/);
        equal(runs, true, "vmdown came first: vmup started it after");
        equal((await sb.run("vmdown", "-k", "vm")).code, 0);
      }
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("eight vmcreate of one home at once make one complete VM; the others exit 1 naming it", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "x" });
    for (const disk of [["-c", "d.img"], ["-o", "vm_storage_hdd1_createsize=16M"]]) {
      const home = `${sb.work}/one-${disk[0]}`;
      const runs = await Promise.all(
        Array.from({ length: 8 }, () => sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, ...disk, home)),
      );
      for (const r of runs) noInternalError(r);
      equal(runs.filter((r) => r.code === 0).length, 1, runs.map((r) => r.stderr).join(""));
      for (const r of runs.filter((r) => r.code !== 0)) {
        equal(r.code, 1);
        match(r.stderr, new RegExp(`one--[co]: already holds a VM`));
      }
      const up = await sb.run("vmup", "-n", home);
      equal(up.code, 0, up.stderr);
      const files = [...Deno.readDirSync(home)].map((e) => e.name).sort();
      deepEqual(files, disk[0] === "-c" ? ["vm.settings"] : ["hdd.qcow2", "vm.settings"]);
    }
  } finally {
    await sb.cleanup();
  }
});

/** A vmdk whose conversion with compression takes a few seconds (random data does not compress). */
async function slowVmdk(dir: string): Promise<string> {
  const raw = `${dir}/big.raw`;
  const f = await Deno.open(raw, { write: true, create: true });
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < 192; i++) {
    for (let j = 0; j < chunk.length; j += 65536) crypto.getRandomValues(chunk.subarray(j, j + 65536));
    await f.write(chunk);
  }
  f.close();
  const vmdk = `${dir}/big.vmdk`;
  const r = await new Deno.Command("qemu-img", { args: ["convert", "-O", "vmdk", raw, vmdk] }).output();
  equal(r.code, 0);
  Deno.removeSync(raw);
  return vmdk;
}

Deno.test("a conversion killed half-way leaves nothing once the next run on the home is done; SIGTERM undoes at once", async () => {
  const sb = new Sandbox();
  try {
    const vmdk = await slowVmdk(sb.dir);
    await makeBootSectorDisk(`${sb.work}/small.img`, { message: "x" });
    const partIn = (dir: string) =>
      exists(dir) && [...Deno.readDirSync(dir)].some((e) => e.name.includes(".part-"));

    // SIGKILL: no chance to clean up; the qemu-img it started goes on.
    const killed = sb.spawn({}, "vmcreate", "-y", "-n", "-z", ...HEADLESS_TCG, "-c", vmdk, "vm");
    await waitFor(() => partIn(`${sb.work}/vm`), 20000, "the conversion to start");
    killed.kill("SIGKILL");
    await killed.output();
    ok((await processesMentioning(`${sb.work}/vm/`)).length > 0, "qemu-img outlives a SIGKILL");
    const next = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "small.img", "vm");
    equal(next.code, 0, next.stderr);
    match(next.stderr, /undid the interrupted change 'vmcreate /);
    deepEqual([...Deno.readDirSync(`${sb.work}/vm`)].map((e) => e.name), ["vm.settings"]);
    await waitFor(
      async () => (await processesMentioning(`${sb.work}/vm/`)).length === 0,
      5000,
      "qemu-img to stop",
    );

    // SIGTERM (and SIGINT): stopped, undone, the home it made removed.
    const termed = sb.spawn({}, "vmcreate", "-y", "-n", "-z", ...HEADLESS_TCG, "-c", vmdk, "vm2");
    await waitFor(() => partIn(`${sb.work}/vm2`), 20000, "the conversion to start");
    termed.kill("SIGTERM");
    const out = await termed.output();
    equal(out.code, 143);
    match(new TextDecoder().decode(out.stderr), /interrupted: reverted: vmcreate /);
    equal(exists(`${sb.work}/vm2`), false);
    await waitFor(
      async () => (await processesMentioning(`${sb.work}/vm2/`)).length === 0,
      5000,
      "qemu-img to stop",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a conversion never writes over an existing file: a free name when asked, an error with -y", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/data.raw`, { message: "x" });
    const c = await new Deno.Command("qemu-img", {
      args: ["convert", "-O", "vmdk", `${sb.work}/data.raw`, `${sb.work}/data.vmdk`],
    }).output();
    equal(c.code, 0);
    const unrelated = sb.write("work/data.qcow2", "not an image, but precious\n");
    const before = await sha256(unrelated);

    const asked = await sb.runWith({ stdin: "yes\n" }, "vmup", "-n", ...HEADLESS_TCG, "data.vmdk");
    equal(asked.code, 0, asked.stderr);
    match(asked.stderr, /as [^\n]*\/data-1\.qcow2 \(data\.qcow2 exists\)/);
    equal(await sha256(unrelated), before);
    ok(exists(`${sb.work}/data-1.qcow2`));

    const yes = await sb.run("vmup", "-y", "-n", ...HEADLESS_TCG, "data.vmdk");
    equal(yes.code, 1);
    noInternalError(yes);
    match(yes.stderr, /data\.qcow2 already exists: not converting/);
    equal(await sha256(unrelated), before);
    equal(exists(`${sb.work}/data-2.qcow2`), false);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("names vmtools cannot store, and a file where a home should be, are one line each", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/a\nb.img`, { message: "x" });
    for (
      const r of [
        await sb.run("vmcreate", "-y", "-n", "-c", "a\nb.img", "vm"),
        await sb.run("vmup", "-n", "a\nb.img"),
      ]
    ) {
      equal(r.code, 1);
      noInternalError(r);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(r.stderr, /"a\\nb\.img": a path with a newline, carriage return or NUL character cannot be used/);
    }
    equal(exists(`${sb.work}/vm`), false);
    const cr = await sb.run("vmcreate", "-y", "-n", "-o", "vm_name=a\rb", "vm");
    equal(cr.code, 2);
    noInternalError(cr);
    match(cr.stderr, /^vmcreate: -o 'vm_name': newline, carriage return and NUL are not allowed in values\n/);
    const r = await sb.run("vmcreate", "-y", "-n", "a\nb.img");
    equal(r.code, 1);
    equal(r.stderr, "vmcreate: a\nb.img: exists and is not a directory\n");
    equal(readOr(`${sb.work}/a\nb.img`).length > 0, true);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a vmfork that gives up waiting for a new home's lock leaves the holder's lock file", async () => {
  const sb = new Sandbox();
  try {
    const src = `${sb.work}/src`;
    sb.write(`${src}/vm.settings`, "vm_ram_size=32M\n");
    Deno.mkdirSync(`${sb.work}/dest/src`, { recursive: true });
    const lockPath = `${sb.work}/dest/src/.vm.settings.lock`;
    using lock = Deno.openSync(lockPath, { read: true, write: true, create: true });
    lock.lockSync(true);
    const r = await sb.run("vmfork", "-o", "cfg_limit_waitlock=1", src, `${sb.work}/dest`);
    equal(r.code, 1, r.stderr);
    match(r.stderr, /locked by another process/);
    ok(exists(lockPath), "the holder's lock file stays");
    equal(Deno.statSync(lockPath).ino, lock.statSync().ino);
    noInternalError(r);
  } finally {
    await sb.cleanup();
  }
});
