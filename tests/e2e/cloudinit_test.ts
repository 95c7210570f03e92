/**
 * cloud-init NoCloud seeds through the real commands: the Linux test guest
 * mounts the `cidata` CD-ROM and prints its user-data's marker and its
 * instance-id on the serial console, from a VM home and from a bare boot;
 * the seed is made again only when what goes into it changes; forks and
 * copies get instance-ids of their own (and a copy the user-data file);
 * what cannot be read, or may not be, is one line.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { CIDATA_INSTANCE, CIDATA_MARKER, linuxGuestIso } from "../fixtures/linux.ts";
import { libvirtDaemonUnavailable, virsh } from "../helpers/libvirt.ts";
import { HEADLESS_TCG, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** A small guest without a disk of its own. */
const GUEST = [...HEADLESS_TCG, "-o", "vm_ram_size=256M", "-o", "vm_storage_hdd1_createsize=0"];

/** A file of an ISO image (Rock Ridge names), as isoinfo reads it. */
async function isoFile(iso: string, name: string): Promise<string> {
  const out = await new Deno.Command("isoinfo", {
    args: ["-i", iso, "-R", "-x", `/${name}`],
    stdout: "piped",
  })
    .output();
  equal(out.code, 0);
  return new TextDecoder().decode(out.stdout);
}

/** The instance-id in the seed of the VM at `home`, after `vmup -n` made it. */
async function instanceIdOf(sb: Sandbox, home: string, ...opts: string[]): Promise<string> {
  const r = await sb.run("vmup", "-n", ...opts, home);
  equal(r.code, 0, r.stderr);
  const meta = await isoFile(`${home}/cidata.iso`, "meta-data");
  return JSON.parse(/^instance-id: (.*)$/m.exec(meta)![1]);
}

/** Creates the VM `name` in the work directory with `user-data` beside its settings. */
async function createVm(sb: Sandbox, name: string, userData: string, ...opts: string[]): Promise<string> {
  const home = `${sb.work}/${name}`;
  sb.write(`${home}/user-data`, userData);
  const c = await sb.run(
    "vmcreate",
    "-y",
    "-n",
    ...GUEST,
    "-o",
    "vm_cloudinit_userdata=user-data",
    ...opts,
    home,
  );
  equal(c.code, 0, c.stderr);
  return home;
}

/** The MAC address vmcreate gave interface 1, as the default instance-id writes it. */
function macOf(home: string): string {
  return /^vm_networking_iface1_mac='?([0-9a-f:]+)'?$/m.exec(readOr(`${home}/vm.settings`))![1].replaceAll(
    ":",
    "",
  );
}

Deno.test("the guest reads its seed: the user-data's marker and its instance-id, from a home and from a bare boot", async () => {
  const sb = new Sandbox();
  try {
    const iso = await linuxGuestIso();
    // Both CD-ROM slots in use: the seed takes neither, and the guest boots from the first.
    const home = await createVm(
      sb,
      "vm",
      "#cloud-config\n#vmtools-marker: hello from the home\n",
      "-o",
      "vm_storage_cdrom2_enable=yes",
      "-D",
      iso,
    );
    const up = await sb.run("vmup", home);
    equal(up.code, 0, up.stderr);
    match(up.stderr, new RegExp(`${home}/cidata.iso: cloud-init seed made`));

    // A bare boot: the path is taken from the current directory, the seed goes in the runtime
    // directory. On q35 the seed takes a port of the machine's own SATA controller.
    sb.write("work/bare.yaml", "#cloud-config\n#vmtools-marker: hello from a bare boot\n");
    const bare = await sb.run(
      "vmup",
      ...GUEST,
      "-o",
      "vm_qemu_machine=q35",
      "-o",
      "vm_storage_cdrom2_enable=yes",
      "-o",
      "vm_cloudinit_userdata=bare.yaml",
      iso,
    );
    equal(bare.code, 0, bare.stderr);
    const dir = /files in (.*)$/m.exec(bare.stderr)![1];
    ok(Deno.statSync(`${dir}/cidata.iso`).isFile);

    const seen = (file: string, line: string) =>
      waitFor(() => readOr(file).replaceAll("\r", "").includes(`${line}\n`), 240_000, `'${line}' in ${file}`);
    await seen(`${home}/serial.log`, `${CIDATA_MARKER} hello from the home`);
    await seen(`${home}/serial.log`, `${CIDATA_INSTANCE} "iid-${macOf(home)}"`);
    await seen(`${dir}/serial.log`, `${CIDATA_MARKER} hello from a bare boot`);
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes(`${CIDATA_INSTANCE} "iid-`),
      60_000,
      "the instance-id",
    );
    for (const target of [home, dir]) {
      const down = await sb.run("vmdown", "-k", target);
      equal(down.code, 0, down.stderr);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("the seed is a CD-ROM of its own: both CD-ROM slots stay where they are, on pc and on q35", async () => {
  const sb = new Sandbox();
  try {
    const home = await createVm(
      sb,
      "vm",
      "#cloud-config\n",
      "-o",
      "vm_storage_cdrom1_enable=yes",
      "-o",
      "vm_storage_cdrom2_enable=yes",
    );
    const slots = ["-drive if=ide,index=2,media=cdrom", "-drive if=ide,index=3,media=cdrom"];
    for (const [machine, seedBus] of [["", "vmtools-cidata-sata\\.0"], ["q35", "ide\\.5"]]) {
      const r = await sb.run("vmup", "-n", "-o", `vm_qemu_machine=${machine}`, home);
      equal(r.code, 0, r.stderr);
      for (const slot of slots) ok(r.stdout.includes(slot), `${slot} in ${r.stdout}`);
      match(r.stdout, new RegExp(`-device ide-cd,drive=vmtools-cidata,bus=${seedBus}( |$)`, "m"));
      // Without the seed the slots are the same.
      const plain = await sb.run(
        "vmup",
        "-n",
        "-o",
        `vm_qemu_machine=${machine}`,
        "-o",
        "vm_cloudinit_userdata=",
        home,
      );
      equal(plain.code, 0, plain.stderr);
      for (const slot of slots) ok(plain.stdout.includes(slot), `${slot} in ${plain.stdout}`);
      equal(plain.stdout.includes("cidata"), false, plain.stdout);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("the seed is made again only when what goes into it changes", async () => {
  const sb = new Sandbox();
  try {
    const home = await createVm(sb, "vm", "#cloud-config\n");
    const seed = `${home}/cidata.iso`;
    const start = async (...opts: string[]) => {
      const r = await sb.run("vmup", "-n", ...opts, home);
      equal(r.code, 0, r.stderr);
      const made = r.stderr.includes(`${seed}: cloud-init seed made`);
      // vmup -n prints the command line: the seed is attached whether made or kept.
      ok(r.stdout.includes(`file=${seed}`), r.stdout);
      return { made, ino: Deno.statSync(seed).ino };
    };
    const first = await start();
    equal(first.made, true);
    deepEqual(await start(), { made: false, ino: first.ino });
    // The same content written again is no change.
    Deno.writeTextFileSync(`${home}/user-data`, "#cloud-config\n");
    deepEqual(await start(), { made: false, ino: first.ino });

    Deno.writeTextFileSync(`${home}/user-data`, "#cloud-config\nhostname: x\n");
    const edited = await start();
    equal(edited.made, true);
    notEqual(edited.ino, first.ino);
    deepEqual(await start(), { made: false, ino: edited.ino });

    // The host name comes from the VM's name; a meta-data or network-config file goes in too.
    const renamed = await start("-o", "vm_name=other");
    equal(renamed.made, true);
    match(await isoFile(seed, "meta-data"), /^local-hostname: "other"$/m);
    equal((await start("-o", "vm_name=other")).made, false);
    sb.write(`${home}/net.yaml`, "version: 2\n");
    equal((await start("-o", "vm_name=other", "-o", "vm_cloudinit_networkconfig=net.yaml")).made, true);
    equal(await isoFile(seed, "network-config"), "version: 2\n");
    equal((await start("-o", "vm_name=other", "-o", "vm_cloudinit_networkconfig=net.yaml")).made, false);
    equal((await start()).made, true);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("forks and copies get instance-ids of their own (-k keeps it); a copy gets the user-data file; a move keeps it", async () => {
  const sb = new Sandbox();
  try {
    const home = await createVm(sb, "vm", "#cloud-config\n#vmtools-marker: shared\n");
    const own = await instanceIdOf(sb, home);
    equal(own, `iid-${macOf(home)}`);

    const fork = await sb.run("vmfork", home, `${home}/child`);
    equal(fork.code, 0, fork.stderr);
    const child = await instanceIdOf(sb, `${home}/child`);
    match(child, /^iid-[0-9a-f-]{36}$/);
    match(readOr(`${home}/child/vm.settings`), new RegExp(`^vm_cloudinit_instanceid=${child}$`, "m"));
    // The fork reads the user-data in its parent's home.
    equal(await isoFile(`${home}/child/cidata.iso`, "user-data"), "#cloud-config\n#vmtools-marker: shared\n");
    equal(await instanceIdOf(sb, home, "-s"), own);

    const copy = await sb.run("vmcp", home, `${sb.work}/copy`);
    equal(copy.code, 0, copy.stderr);
    equal(readOr(`${sb.work}/copy/user-data`), "#cloud-config\n#vmtools-marker: shared\n");
    const copied = await instanceIdOf(sb, `${sb.work}/copy`);
    equal(new Set([own, child, copied]).size, 3);

    const kept = await sb.run("vmcp", "-k", home, `${sb.work}/kept`);
    equal(kept.code, 0, kept.stderr);
    equal(await instanceIdOf(sb, `${sb.work}/kept`), own);

    const moved = await sb.run("vmmv", `${sb.work}/copy`, `${sb.work}/moved`);
    equal(moved.code, 0, moved.stderr);
    equal(await instanceIdOf(sb, `${sb.work}/moved`), copied);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcreate -o with a user-data file outside the new home copies it in, so that the VM starts", async () => {
  const sb = new Sandbox();
  try {
    const mine = sb.write("work/seeds/ud.yaml", "#cloud-config\n#vmtools-marker: mine\n");
    const home = `${sb.work}/vm`;
    const c = await sb.run("vmcreate", "-y", "-n", ...GUEST, "-o", `vm_cloudinit_userdata=${mine}`, home);
    equal(c.code, 0, c.stderr);
    match(c.stderr, new RegExp(`copied ${mine} into the VM \\(vm_cloudinit_userdata=ud\\.yaml\\)`));
    equal(readOr(`${home}/ud.yaml`), readOr(mine));
    match(readOr(`${home}/vm.settings`), /^vm_cloudinit_userdata=ud\.yaml$/m);
    const up = await sb.run("vmup", "-n", home);
    equal(up.code, 0, up.stderr);
    match(up.stderr, /cidata\.iso: cloud-init seed made/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a missing user-data file is one line; a VM's settings may not hand a host file to the guest, nor a copy of it, -o may", async () => {
  const sb = new Sandbox();
  try {
    const home = `${sb.work}/vm`;
    const c = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      ...GUEST,
      "-o",
      "vm_cloudinit_userdata=missing.yaml",
      home,
    );
    equal(c.code, 0, c.stderr);
    const line = /^vm_cloudinit_userdata=/m;
    const n = readOr(`${home}/vm.settings`).split("\n").findIndex((l) => line.test(l)) + 1;
    const r = await sb.run("vmup", home);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: built-in module cloudinit: vm_cloudinit_userdata='missing.yaml' (${home}/vm.settings:${n}): ` +
        `cannot read ${home}/missing.yaml: no such file\n`,
    );
    equal((await sb.run("vmps", "-n", "-d", home)).code, 1);

    // A home from someone else naming one of your files.
    const secret = sb.write("home/.ssh/id_ed25519", "PRIVATE KEY\n");
    const foreign = `${sb.work}/foreign`;
    sb.write(`${foreign}/vm.settings`, `vm_name=gift\nvm_cloudinit_userdata=${secret}\n`);
    const refused = await sb.run("vmup", "-n", ...GUEST, foreign);
    equal(refused.code, 1);
    equal(
      refused.stderr,
      `vmup: built-in module cloudinit: vm_cloudinit_userdata='${secret}' (${foreign}/vm.settings:2): ` +
        `a VM's settings may name only files inside its home (${foreign}); ` +
        "copy the file there, or give the path with -o or in your vmtools.conf\n",
    );
    equal(readOr(`${foreign}/cidata.iso`), "");
    // The same path given by the user is theirs to give.
    const given = await sb.run("vmup", "-n", ...GUEST, "-o", `vm_cloudinit_userdata=${secret}`, foreign);
    equal(given.code, 0, given.stderr);
    equal(await isoFile(`${foreign}/cidata.iso`, "user-data"), "PRIVATE KEY\n");

    // Nor by a link in it, which a copy must not turn into a file of its own.
    const linked = `${sb.work}/linked`;
    sb.write(`${linked}/vm.settings`, "vm_name=gift\nvm_cloudinit_userdata=user-data\n");
    Deno.symlinkSync(secret, `${linked}/user-data`);
    const cp = await sb.run("vmcp", linked, `${sb.work}/mine`);
    equal(cp.code, 0, cp.stderr);
    match(
      cp.stderr,
      /vm_cloudinit_userdata='user-data': .*\/linked\/user-data leads outside its home; not copied/,
    );
    equal(readOr(`${sb.work}/mine/user-data`), "");
    const mine = await sb.run("vmup", "-n", ...GUEST, `${sb.work}/mine`);
    equal(mine.code, 1);
    equal(readOr(`${sb.work}/mine/cidata.iso`), "");
  } finally {
    await sb.cleanup();
  }
});

const unavailable = await libvirtDaemonUnavailable();

Deno.test({
  name:
    "vmup --libvirt: the seed reaches the guest through <qemu:commandline>, its controller in a PCI slot of its own",
  ignore: unavailable !== undefined,
  fn: async () => {
    const sb = new Sandbox();
    let uuid: string | undefined;
    try {
      const iso = await linuxGuestIso();
      const home = await createVm(sb, "vm", "#cloud-config\n#vmtools-marker: under libvirt\n", "-D", iso);
      const xml = await sb.run("vminfo", "--libvirt", home);
      equal(xml.code, 0, xml.stderr);
      match(xml.stdout, /<qemu:arg value='ahci,id=vmtools-cidata-sata,addr=0x[0-9a-f]+'\/>/);
      const up = await sb.run(
        "vmup",
        "--libvirt",
        "--wait",
        `^${CIDATA_MARKER} under libvirt$`,
        "--timeout",
        "600",
        home,
      );
      equal(up.code, 0, up.stderr);
      uuid = JSON.parse(readOr(`${home}/qemu.json`)).libvirt.uuid;
      // vminfo --libvirt, which runs the modules libvirt has no element for, made the seed already.
      ok(Deno.statSync(`${home}/cidata.iso`).isFile);
      await waitFor(
        () => readOr(`${home}/serial.log`).includes(`${CIDATA_INSTANCE} "iid-${macOf(home)}"`),
        60_000,
        "the instance-id",
      );
      const down = await sb.run("vmdown", "-w", home);
      equal(down.code, 0, down.stderr);
      ok(!(await virsh("list", "--all", "--uuid")).out.includes(uuid!));
    } finally {
      if (uuid) await virsh("destroy", uuid);
      await sb.cleanup();
    }
  },
});
