import { deepEqual, equal, rejects } from "node:assert/strict";
import { BUILTIN_MODULES } from "../../modules/registry.ts";
import { ModuleLoader } from "../modules/loader.ts";
import { parseSettings } from "../settings/file.ts";
import { resolveSettings } from "../settings/resolve.ts";
import { Logger } from "../ui/log.ts";
import { vmFiles } from "../home/files.ts";
import { buildCommand } from "./build.ts";

const quiet: Logger = new Logger("test", -1, {
  out() {},
  err() {},
  errIsTerminal: false,
  inIsTerminal: false,
});

async function build(
  text: string,
  graphical = false,
  overrides: [string, string][] = [],
  prepare?: (home: string) => void,
) {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-build-" });
  Deno.writeTextFileSync(`${dir}/disk,1.img`, "");
  Deno.mkdirSync(`${dir}/cd dir`);
  const roots = {
    share: `${dir}/none`,
    etc: `${dir}/none`,
    user: `${dir}/none`,
  };
  const home = `${dir}/my vm`;
  Deno.mkdirSync(home);
  prepare?.(home);
  const file = parseSettings(
    text.replaceAll("DIR", dir),
    `${home}/vm.settings`,
    "vm",
  );
  const { settings } = resolveSettings({ roots, home, file, overrides });
  const loader = new ModuleLoader(roots, false, BUILTIN_MODULES);
  try {
    const cmd = await buildCommand(
      settings,
      vmFiles(home, settings),
      { graphical },
      loader,
      quiet,
    );
    return { cmd, dir: dir, home };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("the built-in modules build the expected command line", async () => {
  const { cmd, home, dir } = await build(`template modern
vm_name='web, prod'
vm_boot_order=dc
vm_boot_menu=yes
vm_cpu_count=4
vm_display_type=vnc
vm_display_port=5905
vm_keyboard_mapping=fr
vm_ram_size=1.5G
vm_networking_iface1_enable=yes
vm_networking_iface1_mac=52:54:00:12:34:56
vm_networking_iface3_enable=yes
vm_networking_iface3_mac=52:54:00:ab:cd:ef
vm_networking_iface3_mode='user,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22'
vm_networking_iface3_device=e1000
vm_storage_hdd1_enable=yes
vm_storage_hdd1_backend='snap:DIR/disk,1.img'
vm_storage_cdrom1_enable=yes
vm_serial_mode=log
vm_qemu_accel=tcg
`);
  equal(cmd.binary, "qemu-system-x86_64");
  deepEqual(cmd.args, [
    "-machine",
    "q35",
    "-accel",
    "tcg",
    "-usb",
    "-device",
    "usb-tablet",
    "-pidfile",
    `${home}/qemu.pid`,
    "-sandbox",
    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-boot",
    "order=dc,menu=on",
    "-smp",
    "4",
    "-cpu",
    "max",
    "-display",
    "none",
    "-vnc",
    "127.0.0.1:5",
    "-vga",
    "std",
    "-k",
    "fr",
    "-qmp",
    `unix:${home}/monitor.sock,server=on,wait=off`,
    "-chardev",
    `file,id=vmtools-serial0,path=${home}/serial.log`,
    "-serial",
    "chardev:vmtools-serial0",
    "-name",
    "web,, prod",
    "-netdev",
    "user,id=nd1",
    "-device",
    "virtio-net-pci,mac=52:54:00:12:34:56,netdev=nd1",
    "-netdev",
    "user,id=nd3,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22",
    "-device",
    "e1000,mac=52:54:00:ab:cd:ef,netdev=nd3",
    "-m",
    "1536M",
    "-drive",
    "if=ide,index=2,media=cdrom",
    "-drive",
    `file=${dir}/disk,,1.img,format=raw,id=hdd1,snapshot=on,if=virtio`,
  ]);
});

Deno.test("the macos module gives the SMC its key, commas escaped, after the CPU; nothing without a key", async () => {
  const key = "ourhardworkbythesewordsguardedpleasedontsteal(c)AppleComputerInc,x";
  const { cmd } = await build(`template macos\nvm_macos_osk='${key}'\n`);
  const cpu = cmd.args.indexOf("-cpu");
  deepEqual(cmd.args.slice(cpu, cpu + 4), [
    "-cpu",
    "Penryn,vendor=GenuineIntel,+invtsc,vmware-cpuid-freq=on",
    "-device",
    `isa-applesmc,osk=${key.replace(",", ",,")}`,
  ]);
  const without = await build("template macos\n");
  equal(without.cmd.args.some((a) => a.startsWith("isa-applesmc")), false);
});

Deno.test("auto acceleration lets QEMU fall back to TCG and never asks for -cpu host", async () => {
  const { cmd } = await build("vm_display_type=auto\n");
  deepEqual(cmd.args.slice(0, 4), ["-accel", "kvm", "-accel", "tcg"]);
  equal(cmd.args[cmd.args.indexOf("-cpu") + 1], "max");
  equal(cmd.args[cmd.args.indexOf("-vnc") + 1], "127.0.0.1:0,to=99");
  deepEqual(
    cmd.args.slice(cmd.args.indexOf("-nic"), cmd.args.indexOf("-nic") + 2),
    ["-nic", "none"],
  );
  const window = await build("vm_display_type=auto\nvm_qemu_accel=kvm\n", true);
  equal(window.cmd.args[window.cmd.args.indexOf("-display") + 1], "gtk");
  equal(window.cmd.args[window.cmd.args.indexOf("-cpu") + 1], "host");
});

Deno.test("QEMU runs sandboxed unless the user (not the VM's own files) says no; -daemonize is dropped", async () => {
  const sandbox = (args: string[]) => args.includes("-sandbox");
  equal(sandbox((await build("")).cmd.args), true);
  equal(sandbox((await build("vm_qemu_sandbox=no\n")).cmd.args), true, "a VM home cannot turn it off");
  equal(sandbox((await build("", false, [["vm_qemu_sandbox", "no"]])).cmd.args), false);
  const { cmd } = await build("vm_qemu_params='-daemonize -no-reboot'\n");
  equal(cmd.args.includes("-daemonize"), false);
  equal(cmd.args.includes("-no-reboot"), true);
});

Deno.test("settings the modules cannot use are named", async () => {
  await rejects(
    build("vm_storage_hdd1_enable=yes\n"),
    /hdd1 is enabled but vm_storage_hdd1_backend is empty/,
  );
  await rejects(
    build("vm_ram_size=lots\n"),
    /\/vm\.settings:1: setting vm_ram_size='lots': expected a size/,
  );
  await rejects(
    build("vm_display_type=hologram\n"),
    /vm_display_type='hologram'/,
  );
  await rejects(
    build(
      "vm_storage_cdrom1_enable=yes\nvm_storage_cdrom1_backend='rw:DIR/cd dir'\n",
    ),
    /CD-ROMs are read-only/,
  );
  await rejects(
    build(
      "vm_storage_hdd2_enable=yes\nvm_storage_hdd2_backend=DIR/missing.img\n",
    ),
    /missing.img: no such file/,
  );
});

Deno.test("the share module offers each shared folder through 9p, commas escaped, read-only when asked", async () => {
  const { cmd, home } = await build(
    "vm_share1_path='a,b'\nvm_share3_path='ro:c d'\nvm_share3_tag=data\nvm_share3_security=none\n",
    false,
    [],
    (home) => ["a,b", "c d"].forEach((d) => Deno.mkdirSync(`${home}/${d}`)),
  );
  const virtfs = cmd.args.flatMap((a, i) => cmd.args[i - 1] === "-virtfs" ? [a] : []);
  deepEqual(virtfs, [
    `local,path=${home}/a,,b,mount_tag=share1,security_model=mapped-xattr,id=share1,multidevs=remap`,
    `local,path=${home}/c d,mount_tag=data,security_model=none,id=share3,multidevs=remap,readonly=on`,
  ]);
  const snap = await build("vm_share1_path=.\nvm_storage_rwmode=snap\n");
  equal(snap.cmd.args.find((a) => a.startsWith("local,"))?.endsWith(",readonly=on"), true);
  await rejects(
    build("vm_share1_path=gone\n"),
    /vm\.settings:1: vm_share1_path: .*\/gone: no such directory/,
  );
});

// ---- port forwards and a user's own -serial (issue 11)

Deno.test("vm_networking_ifaceN_hostfwd adds each rule to its user-mode netdev; bad rules are named", async () => {
  const { cmd } = await build(`vm_networking_iface2_enable=yes
vm_networking_iface2_mode='user,restrict=on'
vm_networking_iface2_hostfwd='tcp:127.0.0.1:2222-:22  udp::0-10.0.2.15:53'
`);
  equal(
    cmd.args[cmd.args.indexOf("-netdev") + 1],
    "user,id=nd2,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::0-10.0.2.15:53",
  );
  await rejects(
    build("vm_networking_iface1_enable=yes\nvm_networking_iface1_hostfwd='tcp::2222-:22,restrict=off'\n"),
    /vm.settings:2: vm_networking_iface1_hostfwd: 'tcp::2222-:22,restrict=off' is not a forward/,
  );
  await rejects(
    build("vm_networking_iface1_enable=yes\nvm_networking_iface1_hostfwd=tcp::70000-:22\n"),
    /'tcp::70000-:22' is not a forward/,
  );
  await rejects(
    build(
      "vm_networking_iface1_enable=yes\nvm_networking_iface1_mode=bridge,br=br0\nvm_networking_iface1_hostfwd=tcp::2222-:22\n",
    ),
    /port forwards need user-mode networking \(the mode is 'bridge'\)/,
  );
});

Deno.test("a -serial in vm_qemu_params takes the port over: vmtools' own console steps aside", async () => {
  const own = (await build("")).cmd.args;
  equal(own[own.indexOf("-serial") + 1], "chardev:vmtools-serial0");
  const { cmd } = await build("vm_qemu_params='-serial file:/tmp/guest.log'\n");
  deepEqual(cmd.args.filter((a) => a === "-serial" || a === "-chardev"), ["-serial"]);
  equal(cmd.args[cmd.args.indexOf("-serial") + 1], "file:/tmp/guest.log");
});
