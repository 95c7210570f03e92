/**
 * UEFI through the real commands and the host's own firmware (Debian's
 * `ovmf` and its descriptors in /usr/share/qemu/firmware): OVMF's boot
 * manager speaks on the serial console, the variable store is the VM's
 * own copy of the template, a fork and a copy each get a copy of their
 * own, and a host without the firmware is one line naming the package.
 * Under libvirt the same settings give `<os firmware='efi'>` with the VM's
 * store as `<nvram>`, and (with libvirt's system daemon) OVMF boots there.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { linuxGuestIso } from "../fixtures/linux.ts";
import { assertValidDomain, libvirtDaemonUnavailable, virsh } from "../helpers/libvirt.ts";
import { HEADLESS_TCG, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** A small guest without a disk of its own. */
const GUEST = [...HEADLESS_TCG, "-o", "vm_ram_size=256M", "-o", "vm_storage_hdd1_createsize=0"];

/** Where Debian's ovmf puts its descriptors. */
const DESCRIPTORS = "/usr/share/qemu/firmware";

/** The code image and variable store template the host's first plain UEFI descriptor names. */
function hostFirmware(): { code: string; vars: string } | undefined {
  let names: string[];
  try {
    names = [...Deno.readDirSync(DESCRIPTORS)].map((e) => e.name).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    const d = JSON.parse(Deno.readTextFileSync(`${DESCRIPTORS}/${name}`));
    const pc = d.targets?.some((t: { architecture: string; machines: string[] }) =>
      t.architecture === "x86_64" && t.machines.includes("pc-i440fx-*")
    );
    if (d["interface-types"]?.includes("uefi") && pc && !d.features?.includes("secure-boot")) {
      return { code: d.mapping.executable.filename, vars: d.mapping["nvram-template"].filename };
    }
  }
  return undefined;
}

const firmware = hostFirmware();

/** The `if=pflash` drives of a command line `vmup -n` printed. */
function pflash(cmdline: string): string[] {
  return [...cmdline.matchAll(/-drive (if=pflash\S*)/g)].map((m) => m[1]);
}

/** Whether two files hold the same bytes. */
function sameBytes(a: string, b: string): boolean {
  const [x, y] = [Deno.readFileSync(a), Deno.readFileSync(b)];
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

Deno.test({
  name:
    "uefi: OVMF's boot manager on the serial console, the variable store the VM's own, a fork and a copy get theirs",
  ignore: firmware === undefined,
  fn: async () => {
    const { code, vars } = firmware!;
    const sb = new Sandbox();
    try {
      const iso = await linuxGuestIso();
      const home = `${sb.work}/vm`;
      const c = await sb.run("vmcreate", "-y", "-n", ...GUEST, "-o", "vm_firmware=uefi", "-D", iso, home);
      equal(c.code, 0, c.stderr);
      // No network card: OVMF would try booting from the network first, minutes under TCG.
      const settings = `${home}/vm.settings`;
      const text = readOr(settings);
      match(text, /^vm_networking_iface1_enable=yes$/m);
      Deno.writeTextFileSync(settings, text.replace(/^(vm_networking_iface1_enable)=yes$/m, "$1=no"));
      const store = `${home}/efivars.fd`;
      equal(readOr(store), "");

      const up = await sb.run("vmup", home);
      equal(up.code, 0, up.stderr);
      match(up.stderr, new RegExp(`${store}: UEFI variable store made from ${vars}\n`));
      // The firmware's own words: its boot manager trying the boot options, then its shell
      // (the test guest's CD boots by BIOS only).
      const serial = () => readOr(`${home}/serial.log`).replaceAll("\r", "");
      await waitFor(
        () => /^BdsDxe: (loading|failed to load) Boot\d+ /m.test(serial()),
        300_000,
        "OVMF's boot manager",
      );
      await waitFor(() => serial().includes("UEFI Interactive Shell"), 300_000, "OVMF's shell");
      const down = await sb.run("vmdown", "-k", home);
      equal(down.code, 0, down.stderr);
      // OVMF wrote its boot options into the VM's store; the template stays as it was.
      equal(Deno.statSync(store).size, Deno.statSync(vars).size);
      equal(sameBytes(store, vars), false);

      const n = await sb.run("vmup", "-n", home);
      equal(n.code, 0, n.stderr);
      deepEqual(pflash(n.stdout), [
        `if=pflash,unit=0,format=raw,readonly=on,file=${code}`,
        `if=pflash,unit=1,format=raw,file=${store}`,
      ]);
      equal(readOr(store).length > 0, true);
      // A snapshot start leaves the store as it is, like the disks.
      const snap = await sb.run("vmup", "-n", "-s", home);
      equal(snap.code, 0, snap.stderr);
      equal(pflash(snap.stdout)[1], `if=pflash,unit=1,format=raw,file=${store},snapshot=on`);

      // A fork and a copy: each its own store, a copy of the source's as it was.
      const fork = await sb.run("vmfork", home, `${home}/child`);
      equal(fork.code, 0, fork.stderr);
      const copy = await sb.run("vmcp", home, `${sb.work}/copy`);
      equal(copy.code, 0, copy.stderr);
      const stores = [store, `${home}/child/efivars.fd`, `${sb.work}/copy/efivars.fd`];
      for (const other of stores.slice(1)) {
        ok(sameBytes(other, store), `${other} is a copy of ${store}`);
        notEqual(Deno.statSync(other).ino, Deno.statSync(store).ino);
        const start = await sb.run("vmup", "-n", other.slice(0, other.lastIndexOf("/")));
        equal(start.code, 0, start.stderr);
        equal(pflash(start.stdout)[1], `if=pflash,unit=1,format=raw,file=${other}`);
        equal(start.stderr.includes("variable store made"), false, start.stderr);
      }
      // vmrm takes a VM's store with it (its boot entries belong with its disks).
      const rm = await sb.run("vmrm", "-y", `${sb.work}/copy`);
      equal(rm.code, 0, rm.stderr);
      equal(readOr(stores[2]), "");
      ok(sameBytes(store, stores[1]));
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("no UEFI firmware: one line naming where vmtools looked and the package; other mistakes too, a linked store among them", async () => {
  const sb = new Sandbox();
  try {
    const home = `${sb.work}/vm`;
    const c = await sb.run("vmcreate", "-y", "-n", ...GUEST, "-o", "vm_firmware=uefi", home);
    equal(c.code, 0, c.stderr);
    const empty = `${sb.dir}/firmware`;
    Deno.mkdirSync(empty);
    // The host as it is without ovmf: no descriptor in the directories.
    let r = await sb.run("vmup", "-n", "-o", `cfg_qemu_firmwaredirs=${empty} ${sb.dir}/missing`, home);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: built-in module firmware: vm_firmware=uefi: no UEFI firmware for x86_64 machine pc described in ` +
        `${empty}, ${sb.dir}/missing (install the Debian package ovmf)\n`,
    );
    // A descriptor left behind whose images are gone counts for nothing.
    sb.write(
      `${empty}/60-gone.json`,
      JSON.stringify({
        "interface-types": ["uefi"],
        mapping: {
          device: "flash",
          executable: { filename: `${sb.dir}/gone/CODE.fd`, format: "raw" },
          "nvram-template": { filename: `${sb.dir}/gone/VARS.fd`, format: "raw" },
        },
        targets: [{ architecture: "x86_64", machines: ["pc-i440fx-*", "pc-q35-*"] }],
        features: [],
      }),
    );
    r = await sb.run("vmup", "-n", "-o", `cfg_qemu_firmwaredirs=${empty}`, "-o", "vm_qemu_machine=q35", home);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: built-in module firmware: vm_firmware=uefi: no UEFI firmware for x86_64 machine q35 described in ` +
        `${empty} (install the Debian package ovmf)\n`,
    );
    equal(readOr(`${home}/efivars.fd`), "");
    equal((await sb.run("vmps", "-n", "-d", home)).code, 1);

    r = await sb.run("vmup", "-n", "-o", "vm_firmware=efi", home);
    equal(r.code, 1);
    equal(
      r.stderr,
      "vmup: setting vm_firmware='efi' (from command line): expected bios, uefi or uefi-secure\n",
    );
    r = await sb.run("vmup", "-n", "-o", "vm_firmware=uefi-secure", home);
    equal(r.code, 1);
    match(
      r.stderr,
      /^vmup: built-in module firmware: vm_firmware=uefi-secure needs the q35 machine, .*now pc\)\n$/,
    );

    // A store that is a link (to another VM's, say) is neither written to nor copied.
    const theirs = sb.write("work/other/efivars.fd", "another VM's variables");
    Deno.symlinkSync(theirs, `${home}/efivars.fd`);
    r = await sb.run("vmup", "-n", home);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: built-in module firmware: ${home}/efivars.fd: a symbolic link; the variable store must be the VM's own file\n`,
    );
    r = await sb.run("vmcp", home, `${sb.work}/copy`);
    equal(r.code, 0, r.stderr);
    match(r.stderr, /efivars\.fd is a symbolic link: not copied; the new VM makes its own store\n/);
    equal(readOr(`${sb.work}/copy/efivars.fd`), "");
    equal(readOr(theirs), "another VM's variables");
  } finally {
    await sb.cleanup();
  }
});

Deno.test({
  name: "uefi-secure on q35: the Secure Boot firmware with its keys, SMM on",
  ignore: firmware === undefined,
  fn: async () => {
    const sb = new Sandbox();
    try {
      const home = `${sb.work}/vm`;
      const c = await sb.run(
        "vmcreate",
        "-y",
        "-n",
        ...GUEST,
        "-o",
        "vm_firmware=uefi-secure",
        "-o",
        "vm_qemu_machine=q35",
        home,
      );
      equal(c.code, 0, c.stderr);
      const r = await sb.run("vmup", "-n", home);
      equal(r.code, 0, r.stderr);
      match(r.stdout, / -machine smm=on -global driver=cfi\.pflash01,property=secure,value=on /);
      const [code, store] = pflash(r.stdout);
      match(code, /^if=pflash,unit=0,format=raw,readonly=on,file=\S+$/);
      notEqual(code, `if=pflash,unit=0,format=raw,readonly=on,file=${firmware!.code}`);
      equal(store, `if=pflash,unit=1,format=raw,file=${home}/efivars.fd`);
      // The store comes from the template with Microsoft's keys enrolled, not the empty one.
      ok(!sameBytes(`${home}/efivars.fd`, firmware!.vars));
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("vminfo --libvirt: UEFI picked by libvirt with the VM's own store as <nvram>, Secure Boot with SMM on q35", async () => {
  const sb = new Sandbox();
  try {
    const home = `${sb.work}/vm`;
    const c = await sb.run("vmcreate", "-y", "-n", ...GUEST, "-o", "vm_firmware=uefi", home);
    equal(c.code, 0, c.stderr);
    const plain = await sb.run("vminfo", "--libvirt", home);
    equal(plain.code, 0, plain.stderr);
    await assertValidDomain(plain.stdout);
    match(plain.stdout, /<os firmware='efi'>/);
    match(plain.stdout, /<feature enabled='no' name='secure-boot'\/>/);
    ok(plain.stdout.includes(`<nvram>${home}/efivars.fd</nvram>`), plain.stdout);
    // The buildcmd module does not run beside the description: no flash drives of its own.
    equal(plain.stdout.includes("pflash"), false, plain.stdout);
    equal(readOr(`${home}/efivars.fd`), "");

    const secure = await sb.run(
      "vminfo",
      "--libvirt",
      "-o",
      "vm_firmware=uefi-secure",
      "-o",
      "vm_qemu_machine=q35",
      home,
    );
    equal(secure.code, 0, secure.stderr);
    await assertValidDomain(secure.stdout);
    match(secure.stdout, /<feature enabled='yes' name='secure-boot'\/>/);
    match(secure.stdout, /<feature enabled='yes' name='enrolled-keys'\/>/);
    match(secure.stdout, /<smm state='on'\/>/);

    const pc = await sb.run("vminfo", "--libvirt", "-o", "vm_firmware=uefi-secure", home);
    equal(pc.code, 1);
    match(pc.stderr, /^vminfo: vm_firmware=uefi-secure needs the q35 machine, .*now pc\)\n$/);
    // A snapshot start under libvirt cannot keep the store unchanged: the user hears so.
    const snap = await sb.run("vminfo", "--libvirt", "-o", "vm_storage_rwmode=snap", home);
    equal(snap.code, 0, snap.stderr);
    match(snap.stderr, /under libvirt the UEFI variable store .*efivars\.fd is written to/);
    // A store that links elsewhere (another VM's, say) is not handed to libvirt, which would write through it.
    sb.write("work/other.fd", "another VM's store");
    Deno.symlinkSync(`${sb.work}/other.fd`, `${home}/efivars.fd`);
    const linked = await sb.run("vminfo", "--libvirt", home);
    equal(linked.code, 1);
    match(
      linked.stderr,
      /^vminfo: .*efivars\.fd: a symbolic link; the variable store must be the VM's own file\n$/,
    );
  } finally {
    await sb.cleanup();
  }
});

const unavailable = firmware === undefined ? "no UEFI firmware here" : await libvirtDaemonUnavailable();

Deno.test({
  name: "vmup --libvirt with vm_firmware=uefi: OVMF runs under libvirt's daemon, the store made in the home",
  ignore: unavailable !== undefined,
  fn: async () => {
    const sb = new Sandbox();
    let uuid: string | undefined;
    try {
      const home = `${sb.work}/vm`;
      const c = await sb.run("vmcreate", "-y", "-n", ...GUEST, "-o", "vm_firmware=uefi", home);
      equal(c.code, 0, c.stderr);
      const settings = `${home}/vm.settings`;
      Deno.writeTextFileSync(
        settings,
        readOr(settings).replace(/^(vm_networking_iface1_enable)=yes$/m, "$1=no"),
      );
      const up = await sb.run(
        "vmup",
        "--libvirt",
        "--wait",
        "UEFI Interactive Shell",
        "--timeout",
        "300",
        home,
      );
      equal(up.code, 0, up.stderr);
      uuid = JSON.parse(readOr(`${home}/qemu.json`)).libvirt.uuid;
      match(readOr(`${home}/serial.log`), /BdsDxe: /);
      // libvirt made the VM's store from the template of the firmware it picked.
      equal(Deno.statSync(`${home}/efivars.fd`).size, Deno.statSync(firmware!.vars).size);
      const down = await sb.run("vmdown", "-w", "-o", "vm_qemu_shutdown_timeout=2", home);
      equal(down.code, 0, down.stderr);
      ok(!(await virsh("list", "--all", "--uuid")).out.includes(uuid!));
    } finally {
      if (uuid) await virsh("destroy", uuid);
      await sb.cleanup();
    }
  },
});
