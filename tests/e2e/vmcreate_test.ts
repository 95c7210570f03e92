/**
 * vmcreate makes VM homes whose settings hold only what differs, asks its
 * questions on stdin, and copes with hostile names.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { HEADLESS_TCG, HOSTILE_NAMES, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** The settings lines of a file, comments dropped. */
function settingsLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l && !l.startsWith("#"));
}

Deno.test("vmcreate -y with -c and -d stores the disks, a MAC and the -o values only", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/disk.img`, { message: "x" });
    await makeBootIso(`${sb.work}/cd.iso`, { message: "y" });
    const r = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      "-o",
      "vm_qemu_accel=tcg",
      "-c",
      "disk.img",
      "-d",
      "cd.iso",
      "vm1",
    );
    equal(r.code, 0, r.stderr);
    const lines = settingsLines(`${sb.work}/vm1/vm.settings`);
    deepEqual(lines.filter((l) => !l.startsWith("vm_networking_iface1_mac=")), [
      "vm_qemu_accel=tcg",
      "vm_storage_hdd1_enable=yes",
      `vm_storage_hdd1_backend=${sb.work}/disk.img`,
      "vm_storage_cdrom1_enable=yes",
      `vm_storage_cdrom1_backend=${sb.work}/cd.iso`,
      "vm_networking_iface1_enable=yes",
    ]);
    ok(
      lines.some((l) => /^vm_networking_iface1_mac='52:54:00(:[0-9a-f]{2}){3}'$/.test(l)),
    );
    match(
      readOr(`${sb.work}/vm1/vm.settings`),
      /^# .* by tester: initial creation$/m,
    );
    deepEqual([...Deno.readDirSync(`${sb.work}/vm1`)].map((e) => e.name), [
      "vm.settings",
    ]);
    const again = await sb.run("vmcreate", "-y", "-n", "vm1");
    equal(again.code, 1);
    match(again.stderr, /vm1: already holds a VM/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcreate reads piped answers and creates the proposed blank disk", async () => {
  const sb = new Sandbox();
  try {
    const r = await sb.runWith(
      { stdin: "3\n768m\nno\n2G\n" },
      "vmcreate",
      "-n",
      "vm2",
    );
    equal(r.code, 0, r.stderr);
    match(r.stderr, /Number of virtual CPUs \[2\]: Memory size \[2G\]: /);
    deepEqual(settingsLines(`${sb.work}/vm2/vm.settings`), [
      "vm_cpu_count=3",
      "vm_ram_size=768M",
      "vm_storage_hdd1_enable=yes",
      "vm_storage_hdd1_backend=hdd.qcow2",
    ]);
    const info = await new Deno.Command("qemu-img", {
      args: ["info", "--output=json", `${sb.work}/vm2/hdd.qcow2`],
      stdout: "piped",
    }).output();
    equal(
      JSON.parse(new TextDecoder().decode(info.stdout))["virtual-size"],
      2 * 2 ** 30,
    );
    const bad = await sb.runWith({ stdin: "many\n" }, "vmcreate", "-n", "vm3");
    equal(bad.code, 1);
    match(
      bad.stderr,
      /answer 'many' to 'Number of virtual CPUs': expected a whole number/,
    );
    equal(
      readOr(`${sb.work}/vm3/vm.settings`),
      "",
      "a failed creation leaves nothing",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcreate -t stores the template and -y boots a created VM", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.qcow2`, {
      message: "booted through vmcreate",
      format: "qcow2",
    });
    const r = await sb.run(
      "vmcreate",
      "-y",
      ...HEADLESS_TCG,
      "-t",
      "modern",
      "-c",
      "d.qcow2",
      "vm",
    );
    equal(r.code, 0, r.stderr);
    equal(settingsLines(`${sb.work}/vm/vm.settings`)[0], "template modern");
    await waitFor(
      () => readOr(`${sb.work}/vm/serial.log`).includes("booted through vmcreate"),
      15000,
      "boot",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("every hostile name works with vmcreate and vmup", async () => {
  const sb = new Sandbox();
  try {
    for (const name of HOSTILE_NAMES) {
      const disk = `${sb.work}/${name}.img`;
      await makeBootSectorDisk(disk, { message: `hi ${name}` });
      const home = `${sb.work}/${name}`;
      const c = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        ...HEADLESS_TCG,
        "-c",
        disk,
        "--",
        home,
      );
      equal(c.code, 0, `vmcreate ${JSON.stringify(name)}: ${c.stderr}`);
      const u = await sb.run("vmup", "--", home);
      equal(u.code, 0, `vmup ${JSON.stringify(name)}: ${u.stderr}`);
      await waitFor(
        () => readOr(`${home}/serial.log`).includes(`hi ${name}`),
        15000,
        `boot of ${name}`,
      );
      await sb.cleanupVms();
      const b = await sb.run("vmup", "-s", ...HEADLESS_TCG, "--", disk);
      equal(b.code, 0, `bare vmup ${JSON.stringify(name)}: ${b.stderr}`);
      await sb.cleanupVms();
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("Ctrl-C at a vmcreate question undoes the half-made VM, directories included, and exits 130", async () => {
  const sb = new Sandbox();
  try {
    const child = sb.spawn({ stdin: "piped" }, "vmcreate", `${sb.work}/half/deeper`);
    const reader = child.stderr.getReader();
    let text = "";
    while (!text.includes("Number of virtual CPUs")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    equal(Deno.statSync(`${sb.work}/half/deeper`).isDirectory, true, "the home exists while asking");
    child.kill("SIGINT");
    const { code } = await child.status;
    reader.releaseLock();
    await child.stderr.cancel();
    await child.stdin.close().catch(() => {});
    equal(code, 130);
    let exists = true;
    try {
      Deno.statSync(`${sb.work}/half`);
    } catch {
      exists = false;
    }
    equal(exists, false, "the home and its parent made by vmcreate are removed");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("third-party images are converted to qcow2 in the home, or used in snapshot mode when declined", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/raw.img`, { message: "from vmdk" });
    for (const fmt of ["vmdk", "vdi"]) {
      const out = await new Deno.Command("qemu-img", {
        args: ["convert", "-f", "raw", "-O", fmt, `${sb.work}/raw.img`, `${sb.work}/src.${fmt}`],
      }).output();
      equal(out.code, 0);
    }
    const yes = await sb.run("vmcreate", "-y", ...HEADLESS_TCG, "-c", "src.vmdk", "conv");
    equal(yes.code, 0, yes.stderr);
    match(readOr(`${sb.work}/conv/vm.settings`), /^vm_storage_hdd1_backend=src\.qcow2$/m);
    const info = await new Deno.Command("qemu-img", {
      args: ["info", "-U", `${sb.work}/conv/src.qcow2`],
      stdout: "piped",
    })
      .output();
    match(new TextDecoder().decode(info.stdout), /file format: qcow2/);
    await waitFor(
      () => readOr(`${sb.work}/conv/serial.log`).includes("from vmdk"),
      15000,
      "the converted disk to boot",
    );
    const no = await sb.runWith({ stdin: "\n\nno\nno\n" }, "vmcreate", "-n", "-c", "src.vdi", "keep");
    equal(no.code, 0, no.stderr);
    match(
      readOr(`${sb.work}/keep/vm.settings`),
      new RegExp(`^vm_storage_hdd1_backend=${sb.work}/src\\.vdi$`, "m"),
    );
    const line = await sb.run("vmup", "-n", "-vvv", ...HEADLESS_TCG, "keep");
    match(line.stderr, /src\.vdi,format=vdi,id=hdd1,snapshot=on/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("run flags (-s, -b, -z) are not stored by vmcreate, and -s never loosens a stricter VM", async () => {
  const sb = new Sandbox();
  try {
    await makeBootSectorDisk(`${sb.work}/d.img`, { message: "x" });
    const r = await sb.run("vmcreate", "-y", "-n", "-s", "-b", "-z", ...HEADLESS_TCG, "-c", "d.img", "vm");
    equal(r.code, 0, r.stderr);
    const text = readOr(`${sb.work}/vm/vm.settings`);
    equal(/vm_storage_rwmode|vm_boot_menu|vm_qemu_compress/.test(text), false, text);
    sb.write("work/vm/vm.settings", text + "vm_storage_rwmode=ro\nvm_storage_hdd_interface=virtio\n");
    const line = await sb.run("vmup", "-n", "-vvv", "-s", "-b", "vm");
    equal(line.code, 0, line.stderr);
    match(line.stderr, /-boot order=cd,menu=on/);
    match(line.stderr, /d\.img,format=raw,id=hdd1,readonly=on,if=virtio/);
  } finally {
    await sb.cleanup();
  }
});
