/**
 * VM trees on real images and real QEMU: forks three levels deep, copies
 * of every kind, deletion with and without descendants, a tree moved with
 * plain `mv`, eight forks at once, hostile names — and every step of every
 * command made to fail or die, after which nothing of the source changed.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HOSTILE_NAMES, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

const SETTINGS = "vm_qemu_accel=tcg\nvm_display_type=none\nvm_ram_size=32M\n";

/** A VM home `rel` whose qcow2 disk (in the home) prints `message` on the serial line. */
async function rootVm(sb: Sandbox, rel: string, message: string): Promise<string> {
  const home = `${sb.work}/${rel}`;
  Deno.mkdirSync(home, { recursive: true });
  await makeBootSectorDisk(`${home}/hdd.qcow2`, { message, format: "qcow2" });
  sb.write(
    `${home}/vm.settings`,
    `${SETTINGS}vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=hdd.qcow2\n` +
      "vm_networking_iface1_enable=yes\nvm_networking_iface1_mac='52:54:00:12:34:56'\n",
  );
  return home;
}

async function boots(sb: Sandbox, home: string, message: string, ...opts: string[]): Promise<void> {
  const up = await sb.run("vmup", ...opts, home);
  equal(up.code, 0, up.stderr);
  await waitFor(() => readOr(`${home}/serial.log`).includes(message), 20000, `${home} to boot`);
  const down = await sb.run("vmdown", "-k", home);
  equal(down.code, 0, down.stderr);
}

/** Every file below `dir` with its SHA-256, and every directory. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of [...Deno.readDirSync(d)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) {
        out[`${p}/`] = "";
        await walk(p);
      } else {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(p));
        out[p] = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      }
    }
  };
  await walk(dir);
  return out;
}

function lines(path: string): string[] {
  return readOr(path).split("\n").filter((l) => l !== "");
}

async function backing(image: string): Promise<string | undefined> {
  const r = await new Deno.Command("qemu-img", { args: ["info", "--output=json", image], stdout: "piped" })
    .output();
  return JSON.parse(new TextDecoder().decode(r.stdout))["backing-filename"];
}

Deno.test("a three-level tree: forks boot, parents refuse to write, copies, moves and deletes keep every link", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(sb, "tree/base", "from the base disk");
    const mid = `${base}/mid`, leaf = `${base}/mid/leaf`;
    equal((await sb.run("vmfork", base, mid)).code, 0);
    const f = await sb.run("vmfork", mid, leaf);
    equal(f.code, 0, f.stderr);
    // Links relative within the tree, both ways.
    deepEqual(lines(`${base}/childs.lst`), ["mid"]);
    deepEqual(lines(`${mid}/childs.lst`), ["leaf"]);
    match(readOr(`${leaf}/vm.settings`), /^parent \.\.$/m);
    equal(await backing(`${mid}/hdd.qcow2`), "../hdd.qcow2");
    equal(await backing(`${leaf}/hdd.qcow2`), "../hdd.qcow2");
    ok(!readOr(`${leaf}/vm.settings`).includes("52:54:00:12:34:56"), "a fork gets a MAC of its own");

    await boots(sb, leaf, "from the base disk");
    for (const parent of [base, mid]) {
      const rw = await sb.run("vmup", parent);
      equal(rw.code, 1);
      match(rw.stderr, /has children whose disks build on its own; start it with -s/);
    }
    await boots(sb, mid, "from the base disk", "-s");

    const tree = await sb.run("vminfo", "-t", "-l", leaf);
    equal(tree.code, 0, tree.stderr);
    equal(tree.stdout, `base  ${base}\n└── mid  ${mid}\n    └── leaf *  ${leaf}\n`);
    const json = JSON.parse((await sb.run("vminfo", "-t", "--json", mid)).stdout).tree;
    equal(json.name, "base");
    equal(json.children[0].current, true);
    equal(json.children[0].children[0].home, leaf);

    // A tree moved with plain mv still boots: its links are relative.
    Deno.renameSync(`${sb.work}/tree`, `${sb.work}/moved`);
    const movedLeaf = `${sb.work}/moved/base/mid/leaf`;
    await boots(sb, movedLeaf, "from the base disk");

    // An autonomous copy of the leaf needs nothing of the tree.
    const c = await sb.run("vmcp", "-a", movedLeaf, `${sb.work}/alone`);
    equal(c.code, 0, c.stderr);
    equal(await backing(`${sb.work}/alone/hdd.qcow2`), undefined);
    ok(!readOr(`${sb.work}/alone/vm.settings`).includes("parent"));

    // Deleting the middle VM with its child leaves no link to it.
    const movedBase = `${sb.work}/moved/base`;
    const refused = await sb.run("vmrm", "-y", `${movedBase}/mid`);
    equal(refused.code, 1);
    match(refused.stderr, /has 1 child VM built on its disks .*'vmrm -r' deletes them too/);
    const rm = await sb.run("vmrm", "-y", "-r", `${movedBase}/mid`);
    equal(rm.code, 0, rm.stderr);
    equal(readOr(`${movedBase}/childs.lst`), "", "the parent lists no child any more");
    deepEqual([...Deno.readDirSync(movedBase)].map((e) => e.name).sort(), [
      "hdd.qcow2",
      "vm.settings",
    ]);
    await boots(sb, movedBase, "from the base disk");

    equal((await sb.run("vmrm", "-y", movedBase)).code, 0);
    equal([...Deno.readDirSync(`${sb.work}/moved`)].length, 0);
    await boots(sb, `${sb.work}/alone`, "from the base disk");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcp: a copy keeps its source's parent, -R takes the children along, -s shares the disks", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(sb, "base", "copy me");
    equal((await sb.run("vmfork", base, `${base}/a`)).code, 0);
    equal((await sb.run("vmfork", `${base}/a`, `${base}/a/b`)).code, 0);
    const before = await fingerprint(`${base}/a`);

    const sib = await sb.run("vmcp", `${base}/a`, `${base}/a2`);
    equal(sib.code, 0, sib.stderr);
    deepEqual(lines(`${base}/childs.lst`), ["a", "a2"]);
    equal(await backing(`${base}/a2/hdd.qcow2`), "../hdd.qcow2");
    await boots(sb, `${base}/a2`, "copy me");

    const sub = await sb.run("vmcp", "-R", `${base}/a`, `${base}/a3`);
    equal(sub.code, 0, sub.stderr);
    deepEqual(lines(`${base}/a3/childs.lst`), ["b"]);
    match(readOr(`${base}/a3/b/vm.settings`), /^parent \.\.$/m);
    equal(await backing(`${base}/a3/b/hdd.qcow2`), "../hdd.qcow2");
    await boots(sb, `${base}/a3/b`, "copy me");

    // A copy into an existing directory lands in a subdirectory of that name.
    Deno.mkdirSync(`${sb.work}/shelf`);
    const snap = await sb.run("vmcp", "-a", "-s", `${base}/a/b`, `${sb.work}/shelf`);
    equal(snap.code, 2, "-s and -a exclude each other");
    const shared = await sb.run("vmcp", "-s", `${base}/a/b`, `${sb.work}/shelf`);
    equal(shared.code, 0, shared.stderr);
    match(
      readOr(`${sb.work}/shelf/b/vm.settings`),
      /^vm_storage_hdd1_backend='?snap:.*\/a\/b\/hdd\.qcow2'?$/m,
    );
    equal(readOr(`${sb.work}/shelf/b/hdd.qcow2`), "", "nothing copied");
    await boots(sb, `${sb.work}/shelf/b`, "copy me");
    deepEqual(await fingerprint(`${base}/a`), { ...before, ...(await fingerprint(`${base}/a`)) });
  } finally {
    await sb.cleanup();
  }
});

Deno.test("eight vmfork of one parent at once all land in its children list", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(sb, "base", "x");
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sb.run("vmfork", base, `${base}/c${i}`)),
    );
    for (const r of runs) equal(r.code, 0, r.stderr);
    deepEqual(lines(`${base}/childs.lst`).sort(), Array.from({ length: 8 }, (_, i) => `c${i}`));
    const tree = await sb.run("vminfo", "-t", base);
    equal(tree.stdout.split("\n").filter((l) => /c\d/.test(l)).length, 8);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("every step of vmfork, vmcp and vmrm made to fail leaves the sources as they were", async () => {
  const sb = new Sandbox();
  try {
    const commands: [string, (t: string) => string[]][] = [
      ["vmfork", (t) => [`${t}/base`, `${t}/fork`]],
      ["vmcp", (t) => [`${t}/base/mid`, `${t}/base/copy`]],
      ["vmcp", (t) => ["-a", `${t}/base/mid/leaf`, `${t}/alone`]],
      ["vmcp", (t) => ["-R", `${t}/base/mid`, `${t}/subtree`]],
      ["vmrm", (t) => ["-y", `${t}/base/mid/leaf`]],
      ["vmrm", (t) => ["-y", "-r", `${t}/base/mid`]],
    ];
    for (const [i, [command, argsIn]] of commands.entries()) {
      const base = await rootVm(sb, `t${i}/base`, "still here");
      equal((await sb.run("vmfork", base, `${base}/mid`)).code, 0);
      equal((await sb.run("vmfork", `${base}/mid`, `${base}/mid/leaf`)).code, 0);
      const top = `${sb.work}/t${i}`;
      const args = argsIn(top);
      const before = await fingerprint(top);
      let n = 1;
      for (;; n++) {
        const r = await sb.runWith({ env: { VMTOOLS_FAULT: `${n}:fail` } }, command, ...args);
        if (r.code === 0) break;
        equal(r.code, 1, `${command} step ${n}: ${r.stderr}`);
        match(r.stderr, new RegExp(`injected fault at step ${n}`), `${command} step ${n}`);
        deepEqual(await fingerprint(top), before, `${command} ${args.join(" ")}: failed at step ${n}`);
      }
      ok(n > 2, `${command} ${args.join(" ")}: ${n - 1} steps tried`);
      await boots(
        sb,
        command === "vmrm" ? base : `${base}/mid/leaf`,
        "still here",
        ...(command === "vmrm" ? ["-s"] : []),
      );
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmfork and vmcp killed at any step: the next command on the source undoes it, the source as it was", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(sb, "base", "survives");
    const snapshot = async () => {
      const all = await fingerprint(sb.work);
      return Object.fromEntries(Object.entries(all).filter(([p]) => !p.includes("/.vm.settings.lock")));
    };
    const before = await snapshot();
    for (
      const [command, args] of [["vmfork", [base, `${sb.work}/f`]], ["vmcp", [
        "-a",
        base,
        `${sb.work}/c`,
      ]]] as const
    ) {
      for (let n = 1;; n++) {
        const r = await sb.runWith({ env: { VMTOOLS_FAULT: `${n}:kill` } }, command, ...args);
        if (r.code === 0) {
          const undo = await sb.run("vmrm", "-y", args[args.length - 1]);
          equal(undo.code, 0, undo.stderr);
          break;
        }
        // vmup of the source locks it, finds the dead journal and undoes it.
        const next = await sb.run("vmup", "-n", base);
        equal(next.code, 0, `${command} step ${n}: ${next.stderr}`);
        match(next.stderr, /undid the interrupted change/, `${command} step ${n}`);
        deepEqual(await snapshot(), before, `${command} killed at step ${n}`);
      }
    }
    await boots(sb, base, "survives");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("every hostile name through fork, copy and remove", async () => {
  const sb = new Sandbox();
  try {
    const base = await rootVm(sb, "base", "hostile");
    for (const name of HOSTILE_NAMES) {
      const fork = `${base}/${name}`;
      const f = await sb.run("vmfork", "--", base, fork);
      equal(f.code, 0, `vmfork '${name}': ${f.stderr}`);
      const copy = `${sb.work}/copies/${name}`;
      Deno.mkdirSync(`${sb.work}/copies`, { recursive: true });
      const c = await sb.run("vmcp", "-a", "--", fork, copy);
      equal(c.code, 0, `vmcp '${name}': ${c.stderr}`);
    }
    deepEqual(lines(`${base}/childs.lst`).sort(), [...HOSTILE_NAMES].sort());
    await boots(sb, `${base}/ `, "hostile");
    await boots(sb, `${sb.work}/copies/foo,,bar`, "hostile");
    for (const name of HOSTILE_NAMES) {
      const rm = await sb.run("vmrm", "-y", "--", `${base}/${name}`);
      equal(rm.code, 0, `vmrm '${name}': ${rm.stderr}`);
    }
    equal(readOr(`${base}/childs.lst`), "");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("Ctrl-C in the middle of vmcp's disk copy: exit 130, no copy, no backup directory, the source as it was", async () => {
  const sb = new Sandbox();
  try {
    const src = `${sb.work}/src`;
    Deno.mkdirSync(src);
    await makeBootSectorDisk(`${src}/hdd.qcow2`, { message: "src", format: "qcow2", sizeMiB: 1024 });
    const io = new Deno.Command("qemu-io", { args: ["-c", "write -P 0x5a 1M 512M", `${src}/hdd.qcow2`] });
    equal((await io.output()).success, true);
    sb.write("work/src/vm.settings", "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=hdd.qcow2\n");
    const before = Deno.readDirSync(src).toArray().map((e) => e.name).sort();

    // -z compresses: slow enough to be interrupted mid-copy on any machine.
    const child = sb.spawn({}, "vmcp", "-a", "-z", src, `${sb.work}/copy`);
    await waitFor(
      () => {
        try {
          return Deno.readDirSync(`${sb.work}/copy`).some((e) => e.name.includes(".part-"));
        } catch {
          return false;
        }
      },
      30000,
      "the copy under way",
    );
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    equal(code, 130, new TextDecoder().decode(stderr));
    equal(Deno.readDirSync(sb.work).some((e) => e.name === "copy"), false, "the copy is removed");
    const after = Deno.readDirSync(src).toArray().map((e) => e.name).sort();
    deepEqual(after, before, `no backup directory left: ${after}`);
    const check = await sb.run("vmfix", "-An", src);
    equal(check.code, 0, check.stdout + check.stderr);
    const ps = new Deno.Command("ps", { args: ["-e", "-ww", "-o", "args="], stdout: "piped" }).outputSync();
    equal(new TextDecoder().decode(ps.stdout).includes(`${sb.work}/copy`), false, "qemu-img stopped");
  } finally {
    await sb.cleanup();
  }
});
