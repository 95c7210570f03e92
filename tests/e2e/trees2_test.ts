/**
 * VM trees, part two, on real images and QEMU: vmmerge into the parent and
 * into the children (the merged VM boots what the merged one had written),
 * vmmv out and back, vmfix after a plain mv and cp -r, stale locks, hostile
 * names — and the crash guarantee: every multi-step command killed at every
 * step, then `vmfix -a -r`, leaves the state before or the state after.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { bootSector, makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HOSTILE_NAMES, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

const SETTINGS = "vm_qemu_accel=tcg\nvm_display_type=none\nvm_ram_size=32M\n";

/** A root VM `dir` with a qcow2 disk in its home whose boot sector prints `message`. */
async function rootVm(dir: string, message: string): Promise<string> {
  Deno.mkdirSync(dir, { recursive: true });
  await makeBootSectorDisk(`${dir}/hdd.qcow2`, { message, format: "qcow2", sizeMiB: 16 });
  Deno.writeTextFileSync(
    `${dir}/vm.settings`,
    `${SETTINGS}vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=hdd.qcow2\n`,
  );
  return dir;
}

/** Writes a boot sector printing `message` into a VM's disk image (an overlay keeps it as its own). */
async function writeBootSector(image: string, message: string): Promise<void> {
  const raw = `${image}.sector`;
  Deno.writeFileSync(raw, bootSector(message));
  const r = await new Deno.Command("qemu-io", {
    args: ["-c", `write -s ${raw} 0 512`, image],
    stdout: "null",
  }).output();
  Deno.removeSync(raw);
  equal(r.code, 0, `qemu-io write into ${image}`);
}

async function boots(sb: Sandbox, home: string, message: string, ...opts: string[]): Promise<void> {
  const up = await sb.run("vmup", ...opts, home);
  equal(up.code, 0, up.stderr);
  await waitFor(() => readOr(`${home}/serial.log`).includes(message), 20000, `${home} to print '${message}'`);
  equal((await sb.run("vmdown", "-k", home)).code, 0);
}

function lines(path: string): string[] {
  return readOr(path).split("\n").filter((l) => l !== "");
}

async function fork(sb: Sandbox, from: string, to: string): Promise<void> {
  const r = await sb.run("vmfork", from, to);
  equal(r.code, 0, r.stderr);
}

Deno.test("vmmerge -p: the parent takes in its only child, boots what the child wrote, and adopts the grandchildren", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(`${sb.work}/base`, "from base");
    await fork(sb, base, `${base}/mid`);
    await fork(sb, `${base}/mid`, `${base}/mid/leaf`);
    await writeBootSector(`${base}/mid/hdd.qcow2`, "written in mid");
    sb.write(`${base}/mid/vm.settings`, readOr(`${base}/mid/vm.settings`) + "vm_cpu_count=1\n");
    await boots(sb, `${base}/mid/leaf`, "written in mid");

    await fork(sb, base, `${base}/other`);
    const refused = await sb.run("vmmerge", `${base}/mid`);
    equal(refused.code, 1);
    match(refused.stderr, /has other children \(.*\/other\) whose disks build on its own/);
    equal((await sb.run("vmrm", "-y", `${base}/other`)).code, 0);

    const r = await sb.run("vmmerge", `${base}/mid`);
    equal(r.code, 0, r.stderr);
    equal(readOr(`${base}/mid/vm.settings`), "", "the child is gone");
    deepEqual(lines(`${base}/childs.lst`), ["leaf"]);
    match(readOr(`${base}/leaf/vm.settings`), /^parent \.\.$/m);
    match(readOr(`${base}/vm.settings`), /^vm_cpu_count=1$/m, "the child's settings are the parent's now");
    await boots(sb, base, "written in mid", "-s");
    await boots(sb, `${base}/leaf`, "written in mid");
    const fix = await sb.run("vmfix", "-An", "-r", sb.work);
    equal(fix.code, 0, fix.stdout + fix.stderr);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmmerge -c: the children take the parent's place, safe on copies with -s", async () => {
  const sb = new Sandbox();
  try {
    const top = await rootVm(`${sb.work}/top`, "from top");
    await fork(sb, top, `${top}/base`);
    await writeBootSector(`${top}/base/hdd.qcow2`, "written in base");
    await fork(sb, `${top}/base`, `${top}/base/a`);
    await fork(sb, `${top}/base`, `${top}/base/b`);
    const r = await sb.run("vmmerge", "-c", `${top}/base`);
    equal(r.code, 0, r.stderr);
    equal(readOr(`${top}/base/vm.settings`), "");
    deepEqual(lines(`${top}/childs.lst`).sort(), ["a", "b"]);
    for (const c of ["a", "b"]) {
      match(readOr(`${top}/${c}/vm.settings`), /^parent \.\.$/m);
      await boots(sb, `${top}/${c}`, "written in base");
    }
    // A root's only child becomes a root itself; safe mode works on copies.
    const r2 = await sb.run("vmmerge", "-c", "-s", top);
    equal(r2.code, 1, "two children and no parent: asks, and no answer is no");
    const r3 = await sb.run("vmmerge", "-c", "-s", "-y", top);
    equal(r3.code, 0, r3.stderr);
    for (const c of ["a", "b"]) {
      ok(!readOr(`${sb.work}/${c}/vm.settings`).includes("parent"));
      await boots(sb, `${sb.work}/${c}`, "written in base");
    }
    equal(readOr(`${top}/vm.settings`), "");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmmv out of the tree and back keeps every link; plain mv and cp -r are repaired by vmfix", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(`${sb.work}/base`, "moved about");
    await fork(sb, base, `${base}/mid`);
    await fork(sb, `${base}/mid`, `${base}/mid/leaf`);
    Deno.mkdirSync(`${sb.work}/elsewhere`);
    const out = await sb.run("vmmv", `${base}/mid`, `${sb.work}/elsewhere/`);
    equal(out.code, 0, out.stderr);
    deepEqual(lines(`${base}/childs.lst`), [`${sb.work}/elsewhere/mid`]);
    match(readOr(`${sb.work}/elsewhere/mid/vm.settings`), new RegExp(`^parent ${base}$`, "m"));
    await boots(sb, `${sb.work}/elsewhere/mid/leaf`, "moved about");
    const back = await sb.run("vmmv", `${sb.work}/elsewhere/mid`, `${base}/again`);
    equal(back.code, 0, back.stderr);
    deepEqual(lines(`${base}/childs.lst`), ["again"]);
    match(readOr(`${base}/again/vm.settings`), /^parent \.\.$/m);
    await boots(sb, `${base}/again/leaf`, "moved about");

    // A plain mv out of the parent, and a cp -r beside it: vmfix finds and repairs both.
    Deno.renameSync(`${base}/again`, `${sb.work}/plain`);
    const cp = await new Deno.Command("cp", { args: ["-r", `${sb.work}/plain`, `${base}/copied`] }).output();
    equal(cp.code, 0);
    const check = await sb.run("vmfix", "-an", "-r", sb.work);
    equal(check.code, 1);
    match(check.stdout, /plain: moved from .*\/base\/again/);
    match(check.stdout, /does not list its child .*\/copied/);
    const fix = await sb.run("vmfix", "-a", "-r", sb.work);
    equal(fix.code, 0, fix.stdout + fix.stderr);
    deepEqual(lines(`${base}/childs.lst`).sort(), [`${sb.work}/plain`, "copied"].sort());
    equal((await sb.run("vmfix", "-An", "-r", sb.work)).code, 0);
    await boots(sb, `${sb.work}/plain/leaf`, "moved about");
    await boots(sb, `${base}/copied/leaf`, "moved about");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmfix -l clears the lock file a killed holder left; -d a dead VM's work files", async () => {
  const sb = new Sandbox();
  try {
    const home = await rootVm(`${sb.work}/vm`, "x");
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `Deno.openSync("${home}/.vm.settings.lock", { write: true, create: true }).lockSync(true); console.log("held"); setInterval(() => {}, 1000);`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    equal((await sb.run("vmfix", "-ln", home)).code, 0, "a held lock is not stale");
    holder.kill("SIGKILL");
    await holder.output();
    const n = await sb.run("vmfix", "-ln", home);
    equal(n.code, 1);
    match(n.stdout, /stale lock/);
    equal((await sb.run("vmfix", "-l", home)).code, 0);
    equal(readOr(`${home}/.vm.settings.lock`), "");
    sb.write(`${home}/qemu.pid`, "999999\n");
    sb.write(`${home}/qemu.json`, "{}\n");
    const d = await sb.run("vmfix", "-d", home);
    equal(d.code, 0, d.stdout);
    match(d.stdout, /work files of a VM that is not running/);
    equal(readOr(`${home}/qemu.pid`), "");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("every hostile name through merge and move", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(`${sb.work}/base`, "hostile");
    Deno.mkdirSync(`${sb.work}/moved`);
    for (const name of HOSTILE_NAMES) {
      const dir = `${sb.work}/t-${HOSTILE_NAMES.indexOf(name)}`;
      Deno.mkdirSync(dir);
      await fork(sb, base, `${dir}/${name}`);
      const mv = await sb.run("vmmv", "--", `${dir}/${name}`, `${sb.work}/moved/`);
      equal(mv.code, 0, `vmmv '${name}': ${mv.stderr}`);
    }
    equal(lines(`${base}/childs.lst`).length, HOSTILE_NAMES.length);
    await fork(sb, `${sb.work}/moved/ `, `${sb.work}/moved/ /$$`);
    const merge = await sb.run("vmmerge", "--", `${sb.work}/moved/ /$$`);
    equal(merge.code, 0, merge.stderr);
    await boots(sb, `${sb.work}/moved/foo,,bar`, "hostile");
    await boots(sb, `${sb.work}/moved/ `, "hostile");
    equal((await sb.run("vmfix", "-An", "-r", sb.work)).code, 0);
  } finally {
    await sb.cleanup();
  }
});

/** The shape of every VM tree below `root`: homes, parents, children, backing chains — relative to `root`. */
async function signature(root: string): Promise<string> {
  const rel = (p: string) => p.startsWith(root) ? p.slice(root.length) : p;
  const out: string[] = [];
  const walk = async (dir: string) => {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    ok(!names.some((n) => n.startsWith("vmtools-backup.")), `no backup directory left in ${dir}`);
    if (names.includes("vm.settings")) {
      const settings = readOr(`${dir}/vm.settings`);
      const parent = /^parent (.*)$/m.exec(settings)?.[1];
      out.push(`${rel(dir)} parent=${parent ? rel(new URL(parent, `file://${dir}/`).pathname) : "-"}`);
      out.push(
        `${rel(dir)} children=${
          lines(`${dir}/childs.lst`).map((c) => rel(new URL(c, `file://${dir}/`).pathname)).sort()
        }`,
      );
      for (const n of names.filter((n) => n.endsWith(".qcow2"))) {
        const info = await new Deno.Command("qemu-img", {
          args: ["info", "--backing-chain", "--output=json", `${dir}/${n}`],
          stdout: "piped",
        }).output();
        if (info.code !== 0) {
          out.push(`${rel(dir)}/${n} chain=BROKEN`);
          continue;
        }
        const chain = JSON.parse(new TextDecoder().decode(info.stdout)) as { filename: string }[];
        out.push(
          `${rel(dir)}/${n} chain=${
            chain.map((c) => rel(new URL(c.filename, `file://${dir}/`).pathname)).join(",")
          }`,
        );
      }
    }
    for (const n of names) if (Deno.statSync(`${dir}/${n}`).isDirectory) await walk(`${dir}/${n}`);
  };
  await walk(root);
  return out.join("\n");
}

Deno.test("killed at any step, then vmfix -a -r: the state before or after, never a mix", async () => {
  const sb = new Sandbox();
  try {
    const pristine = `${sb.dir}/pristine`;
    const base = await rootVm(`${pristine}/base`, "survives");
    await fork(sb, base, `${base}/mid`);
    await fork(sb, `${base}/mid`, `${base}/mid/leaf`);
    await writeBootSector(`${base}/mid/hdd.qcow2`, "survives too");
    // [command, its arguments, what makes the state it starts from, what
    // recovers a kill]. vmfix is checked with -b alone: a kill must be
    // undone or finished, not repaired over by the next full check.
    const mvByHand = (t: string) => Deno.renameSync(`${t}/base/mid`, `${t}/moved`);
    const commands: [string, (t: string) => string[], ((t: string) => void)?, string[]?][] = [
      ["vmcreate", (t) => ["-y", "-n", "-o", "vm_storage_hdd1_createsize=16M", `${t}/new`]],
      ["vmfork", (t) => [`${t}/base/mid`, `${t}/base/mid/fork`]],
      ["vmcp", (t) => ["-R", `${t}/base/mid`, `${t}/base/copy`]],
      ["vmcp", (t) => ["-a", `${t}/base/mid/leaf`, `${t}/alone`]],
      ["vmmerge", (t) => [`${t}/base/mid/leaf`]],
      ["vmmerge", (t) => ["-s", `${t}/base/mid/leaf`]],
      ["vmmerge", (t) => ["-c", `${t}/base/mid`]],
      ["vmmv", (t) => [`${t}/base/mid`, `${t}/moved`]],
      ["vmrm", (t) => ["-y", "-r", `${t}/base/mid`]],
      ["vmfix", (t) => ["-a", "-r", t], mvByHand, ["-b", "-r"]],
    ];
    for (const [i, [command, argsIn, prepare, recover = ["-a", "-r"]]] of commands.entries()) {
      const clean = `${sb.work}/clean${i}`;
      await cpR(pristine, clean);
      prepare?.(clean);
      const before = await signature(clean);
      const done = await sb.run(command, ...argsIn(clean));
      equal(done.code, 0, `${command}: ${done.stderr}`);
      const after = await signature(clean);
      ok(after !== before, `${command} changed nothing`);
      ok(!after.includes("BROKEN"), `${command} left a backing chain that does not resolve:\n${after}`);
      let n = 1;
      for (;; n++) {
        const t = `${sb.work}/t${i}-${n}`;
        await cpR(pristine, t);
        prepare?.(t);
        const r = await sb.runWith({ env: { VMTOOLS_FAULT: `${n}:kill` } }, command, ...argsIn(t));
        const fix = await sb.run("vmfix", ...recover, t);
        ok(fix.code === 0, `${command} killed at ${n}: vmfix: ${fix.stdout}${fix.stderr}`);
        const now = await signature(t);
        ok(
          now === before || now === after,
          `${command} ${
            argsIn(t).join(" ")
          } killed at step ${n}:\n${now}\n--- before:\n${before}\n--- after:\n${after}`,
        );
        Deno.removeSync(t, { recursive: true });
        if (r.code === 0) break;
      }
      ok(n > 2, `${command}: ${n} steps`);
      Deno.removeSync(clean, { recursive: true });
    }
    await boots(sb, `${pristine}/base/mid/leaf`, "survives too");
  } finally {
    await sb.cleanup();
  }
});

async function cpR(from: string, to: string): Promise<void> {
  const r = await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  equal(r.code, 0);
}

/**
 * Runs `args` while this test holds `home`'s lock, as a vmfork would that
 * adds a child: `childs` reads `before` until the lock is let go, and then
 * its real content again.
 */
async function whileForking(sb: Sandbox, home: string, before: string, ...args: string[]) {
  const childs = `${home}/childs.lst`, after = Deno.readTextFileSync(childs);
  Deno.writeTextFileSync(childs, before);
  const lock = Deno.openSync(`${home}/.vm.settings.lock`, { read: true, write: true, create: true });
  lock.lockSync(true);
  const run = sb.run(...(args as [string, ...string[]]));
  // Long enough for the command to start, read the tree and wait (else it reads the new tree: same outcome).
  await new Promise((r) => setTimeout(r, 2000));
  Deno.writeTextFileSync(childs, after);
  Deno.removeSync(`${home}/.vm.settings.lock`);
  lock.close();
  return await run;
}

Deno.test("a child forked while vmrm, vmmerge or vmmv waits for the locks: refused, nothing lost", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(`${sb.work}/base`, "base");
    await fork(sb, base, `${base}/one`);
    await fork(sb, base, `${sb.work}/two`);
    const disk = Deno.readFileSync(`${base}/hdd.qcow2`);
    const before = await signature(sb.work);
    const onlyOne = "one\n";

    const rm = await whileForking(sb, base, "", "vmrm", "-y", base);
    equal(rm.code, 1, rm.stderr);
    match(rm.stderr, /has 2 child VMs/);
    const rmR = await whileForking(sb, base, onlyOne, "vmrm", "-y", "-r", base);
    equal(rmR.code, 1, rmR.stderr);
    match(rmR.stderr, /\/two: joined the VMs this change concerns while it waited for their locks/);
    const mergeP = await whileForking(sb, base, onlyOne, "vmmerge", "-p", `${base}/one`);
    equal(mergeP.code, 1, mergeP.stderr);
    match(mergeP.stderr, /has other children \(.*\/two\)/);
    const mergeC = await whileForking(sb, base, onlyOne, "vmmerge", "-c", "-y", base);
    equal(mergeC.code, 1, mergeC.stderr);
    match(mergeC.stderr, /\/two: joined the VMs/);
    const mv = await whileForking(sb, base, onlyOne, "vmmv", base, `${sb.work}/moved`);
    equal(mv.code, 1, mv.stderr);
    match(mv.stderr, /\/two: joined the VMs/);

    deepEqual(Deno.readFileSync(`${base}/hdd.qcow2`), disk, "the children's backing disk is as it was");
    equal(await signature(sb.work), before);
    await boots(sb, `${sb.work}/two`, "base");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmrm -r of a home whose children list names another's VM deletes nothing of that VM's tree", async () => {
  const sb = new Sandbox();
  try {
    const mine = await rootVm(`${sb.work}/mine`, "mine");
    await fork(sb, mine, `${mine}/kid`);
    const before = await signature(mine);
    // From someone else: a VM whose children list claims mine (whose parent line does not name it).
    const foreign = `${sb.work}/foreign`;
    sb.write(`${foreign}/vm.settings`, SETTINGS);
    sb.write(`${foreign}/childs.lst`, `${mine}\n`);
    const r = await sb.run("vmrm", "-y", "-r", foreign);
    equal(r.code, 0, r.stderr);
    equal(readOr(`${foreign}/vm.settings`), "");
    equal(await signature(mine), before);
    ok(Deno.statSync(`${mine}/kid/hdd.qcow2`).isFile);
    // A VM whose parent does not list it: one line, nothing deleted.
    sb.write(`${sb.work}/stray/vm.settings`, `parent ${mine}\n${SETTINGS}`);
    const stray = await sb.run("vmrm", "-y", `${sb.work}/stray`);
    equal(stray.code, 1, stray.stderr);
    match(
      stray.stderr,
      /^vmrm: .*\/stray: its parent .*\/mine does not list it \('vmfix -p' repairs the list\)\n$/,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmmerge -p and -c through a symbolic link to the tree", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(`${sb.work}/real/base`, "base");
    await fork(sb, base, `${base}/kid`);
    Deno.symlinkSync(`${sb.work}/real`, `${sb.work}/alias`);
    const p = await sb.run("vmmerge", "-p", `${sb.work}/alias/base/kid`);
    equal(p.code, 0, p.stderr);
    equal(readOr(`${base}/kid/vm.settings`), "", "the child is merged away");
    deepEqual(lines(`${base}/childs.lst`), []);
    await fork(sb, base, `${base}/kid2`);
    const c = await sb.run("vmmerge", "-c", `${sb.work}/alias/base`);
    equal(c.code, 0, c.stderr);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcp -R of a home whose children list names another's VM is refused; a tree used through a symbolic link is whole", async () => {
  const sb = new Sandbox();
  try {
    const mine = await rootVm(`${sb.work}/real/mine`, "mine");
    await fork(sb, mine, `${sb.work}/real/kid`);
    const foreign = `${sb.work}/foreign`;
    sb.write(`${foreign}/vm.settings`, SETTINGS);
    sb.write(`${foreign}/childs.lst`, `${mine}\n`);
    const cp = await sb.run("vmcp", "-R", foreign, `${sb.work}/copy`);
    equal(cp.code, 1, cp.stderr);
    match(cp.stderr, /childs\.lst: lists .*\/mine, whose parent line names another VM/);
    equal(readOr(`${sb.work}/copy/vm.settings`), "");

    // The kid's parent line names real/mine; through alias/ it is the same VM.
    Deno.symlinkSync(`${sb.work}/real`, `${sb.work}/alias`);
    await fork(sb, mine, `${sb.work}/real/leaf`);
    const leaf = await sb.run("vmrm", "-y", `${sb.work}/alias/leaf`);
    equal(leaf.code, 0, leaf.stderr);
    deepEqual(lines(`${mine}/childs.lst`), [`${sb.work}/real/kid`], "the parent forgets it");
    const tree = await sb.run("vmcp", "-R", `${sb.work}/alias/mine`, `${sb.work}/copy2`);
    equal(tree.code, 0, tree.stderr);
    ok(readOr(`${sb.work}/copy2/kid/vm.settings`) !== "", tree.stderr);
    const rm = await sb.run("vmrm", "-y", "-r", `${sb.work}/alias/mine`);
    equal(rm.code, 0, rm.stderr);
    equal(readOr(`${sb.work}/real/kid/vm.settings`), "", "the child went with its parent");
  } finally {
    await sb.cleanup();
  }
});
