/**
 * VM homes under libvirt. `vminfo --libvirt` on real homes (two disks down
 * a fork chain, a CD-ROM, two NICs with their MACs, VNC, extra QEMU
 * parameters, a hostile name) gives XML libvirt's schema and test driver
 * accept, the same every time. With libvirt's system daemon (as root,
 * started by scripts/libvirt-daemon; skipped elsewhere): `vmup --libvirt
 * --wait --json` boots a fork whose boot sector prints on the serial line,
 * with a port forward QEMU picks a port for; vmps lists it with its engine
 * and forward, vmmon reaches its monitor and follows its log, vmdown -w
 * stops it by home (and -t by pid) and nothing stays defined. An
 * unreachable URI and a missing virsh are one line each; a URI that would
 * make libvirt run a program is refused, from a record or the command line;
 * a disk this host has mounted is refused as vmup refuses it.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { assertValidDomain, libvirtDaemonUnavailable, SYSTEM_URI, virsh } from "../helpers/libvirt.ts";
import { readOr, Sandbox, SMALL_VM } from "../helpers/vmtools.ts";

/** The `<disk>` elements of a domain, each as its sources and formats from the top image down. */
function disks(xml: string): { device: string; sources: string[]; formats: string[] }[] {
  return [...xml.matchAll(/<disk type='\w+' device='(\w+)'>([^]*?)<\/disk>/g)].map(([, device, body]) => ({
    device,
    sources: [...body.matchAll(/<source file='([^']*)'\/>/g)].map((m) => unescape(m[1])),
    formats: [...body.matchAll(/<(?:driver name='qemu'|format) type='(\w+)'/g)].map((m) => m[1]),
  }));
}

/** A VM home `vm` in the sandbox's work directory, booting a boot-sector image `boot.img` beside it. */
async function bootSectorVm(sb: Sandbox): Promise<void> {
  await makeBootSectorDisk(`${sb.work}/boot.img`, { message: "hi" });
  equal((await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "boot.img", "vm")).code, 0);
}

/** Points the first disk of the VM home `home` at `backend`. */
function setDisk(home: string, backend: string): void {
  const settings = `${home}/vm.settings`;
  Deno.writeTextFileSync(
    settings,
    readOr(settings).replace(/^vm_storage_hdd1_backend=.*$/m, `vm_storage_hdd1_backend=${backend}`),
  );
}

/** Undoes XML's escapes of the five markup characters. */
function unescape(text: string): string {
  const chars: Record<string, string> = { amp: "&", lt: "<", gt: ">", apos: "'", quot: '"' };
  return text.replace(/&(amp|lt|gt|apos|quot);/g, (_, name: string) => chars[name]);
}

Deno.test("vminfo --libvirt: two disks down a fork chain, a CD-ROM, two NICs, VNC and extra parameters", async () => {
  const sb = new Sandbox();
  try {
    const w = sb.work;
    await makeBootSectorDisk(`${w}/base.qcow2`, { message: "hi", format: "qcow2" });
    await makeBootSectorDisk(`${w}/data.raw`, { message: "data" });
    await makeBootIso(`${w}/cd.iso`, { message: "cd" });
    const c = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      ...SMALL_VM,
      "-c",
      "base.qcow2",
      "-c",
      "data.raw",
      "-d",
      "cd.iso",
      "-o",
      "vm_networking_iface1_enable=yes",
      "-o",
      "vm_networking_iface1_mac=52:54:00:00:00:01",
      "-o",
      "vm_networking_iface2_enable=yes",
      "-o",
      "vm_networking_iface2_mac=52:54:00:00:00:02",
      "-o",
      "vm_networking_iface2_mode=bridge,br=br0",
      "-o",
      "vm_networking_iface2_device=virtio-net-pci",
      "-o",
      "vm_qemu_params=-usb -device usb-tablet -rtc base=localtime,clock=vm",
      "base",
    );
    equal(c.code, 0, c.stderr);
    // Forks keep their parent's MACs with -k; the leaf has a name XML must escape.
    const leaf = `base/mid/it's <a> & "b"`;
    equal((await sb.run("vmfork", "-k", "base", "base/mid")).code, 0);
    const f = await sb.run("vmfork", "-k", "base/mid", leaf);
    equal(f.code, 0, f.stderr);

    const r = await sb.run("vminfo", "--libvirt", leaf);
    equal(r.code, 0, r.stderr);
    const xml = r.stdout;
    await assertValidDomain(xml);
    equal((await sb.run("vminfo", "--libvirt", leaf)).stdout, xml, "the same home gives the same XML");

    // Named after the VM, made unique by its UUID: homes named alike must not clash in one daemon.
    const uuid = /<uuid>([0-9a-f-]+)<\/uuid>/.exec(xml)?.[1] ?? "";
    match(xml, new RegExp(`<name>it&apos;s &lt;a&gt; &amp; &quot;b&quot;-${uuid.slice(0, 8)}</name>`));
    match(xml, /<title>it&apos;s &lt;a&gt; &amp; &quot;b&quot;<\/title>/);
    match(xml, /<memory unit='MiB'>32<\/memory>/);
    match(xml, /<domain type='qemu'/); // vm_qemu_accel=tcg
    const [hdd1, hdd2, cdrom] = disks(xml);
    const real = Deno.realPathSync(w);
    equal(hdd1.device, "disk");
    equal(hdd1.sources.length, 3, xml);
    ok(hdd1.sources[0].startsWith(`${real}/base/mid/it's`), hdd1.sources[0]);
    ok(hdd1.sources[1].startsWith(`${real}/base/mid/`), hdd1.sources[1]);
    equal(hdd1.sources[2], `${real}/base.qcow2`);
    deepEqual(hdd1.formats, ["qcow2", "qcow2", "qcow2"]);
    equal(hdd2.sources.length, 3, xml);
    equal(hdd2.sources[2], `${real}/data.raw`);
    deepEqual(hdd2.formats, ["qcow2", "qcow2", "raw"]);
    deepEqual(cdrom, { device: "cdrom", sources: [`${real}/cd.iso`], formats: ["raw"] });
    match(
      xml,
      /<target dev='hda' bus='ide'\/>[^]*<target dev='hdb' bus='ide'\/>[^]*<target dev='hdc' bus='ide'\/>/,
    );
    match(
      xml,
      /<interface type='user'>\s*<mac address='52:54:00:00:00:01'\/>\s*<model type='e1000-82545em'\/>/,
    );
    match(
      xml,
      /<interface type='bridge'>\s*<mac address='52:54:00:00:00:02'\/>\s*<source bridge='br0'\/>\s*<model type='virtio'\/>/,
    );
    match(xml, /<graphics type='vnc' autoport='yes' listen='127.0.0.1'\/>/);
    match(xml, /<serial type='pty'>\s*<log file='[^']*\/serial.log' append='off'\/>/);
    // The default USB tablet is libvirt's own device; the rest goes to QEMU as given.
    match(xml, /<input type='tablet' bus='usb'\/>/);
    match(
      xml,
      /<qemu:commandline>\s*<qemu:arg value='-rtc'\/>\s*<qemu:arg value='base=localtime,clock=vm'\/>/,
    );
    ok(!xml.includes("'-usb'"), xml);

    // User-mode networking with options, libvirt has no words for: QEMU's own arguments.
    const fwd = await sb.run(
      "vminfo",
      "--libvirt",
      "-o",
      "vm_networking_iface1_mode=user,hostfwd=tcp:127.0.0.1:2222-:22",
      leaf,
    );
    equal(fwd.code, 0, fwd.stderr);
    await assertValidDomain(fwd.stdout);
    match(fwd.stdout, /<qemu:arg value='user,id=nd1,hostfwd=tcp:127.0.0.1:2222-:22'\/>/);
    match(fwd.stdout, /<qemu:arg value='e1000-82545em,mac=52:54:00:00:00:01,netdev=nd1,addr=0x1f'\/>/);

    const wrong = await sb.run("vminfo", "--libvirt", "-i", leaf);
    equal(wrong.code, 2);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup --libvirt: an unreachable URI and a missing virsh are one line each, and nothing is recorded", async () => {
  const sb = new Sandbox();
  try {
    await bootSectorVm(sb);
    const uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
    const r = await sb.run("vmup", `--libvirt=${uri}`, "vm");
    equal(r.code, 1);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    match(
      r.stderr,
      /^vmup: libvirt at qemu\+unix:\/\/\/system\?socket=\/nonexistent\/libvirt-sock cannot be reached: /,
    );
    equal(readOr(`${sb.work}/vm/qemu.json`), "");

    const none = await sb.runWith({ env: { PATH: "/nonexistent" } }, "vmup", "--libvirt", "vm");
    equal(none.code, 1);
    equal(none.stderr, "vmup: virsh: not found in PATH (install it: Debian package libvirt-clients)\n");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a record naming a libvirt URI that runs a program is refused, and the program does not run", async () => {
  const sb = new Sandbox();
  try {
    const w = sb.work;
    await makeBootSectorDisk(`${w}/boot.img`, { message: "hi" });
    equal((await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "boot.img", "vm")).code, 0);
    Deno.writeTextFileSync(`${w}/evil.sh`, `#!/bin/sh\necho ran >> ${w}/ran\nexit 1\n`, { mode: 0o755 });
    const forge = (uri: string) =>
      Deno.writeTextFileSync(
        `${w}/vm/qemu.json`,
        JSON.stringify({
          token: "0123456789abcdef0123456789abcdef",
          started: Date.now(),
          name: "vm",
          display: "none",
          dir: `${w}/vm`,
          libvirt: { uri, uuid: "01234567-89ab-8def-8123-456789abcdef", domain: "vm" },
        }),
      );
    // A home from someone else whose record names libvirt's ext transport (it runs command=).
    forge(`qemu+ext:///session?command=${w}/evil.sh`);
    for (const args of [["vminfo", "-l", "vm"], ["vmdown", "vm"], ["vmmon", "-s", "vm"], ["vmup", "vm"]]) {
      const r = await sb.run(args[0], ...args.slice(1));
      equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(r.stderr, /libvirt URI .* runs a program/, r.stderr);
    }
    // One naming another host is not this user's VM (no link from the runtime index): no host is
    // asked at all, with or without a program in the URI.
    for (const uri of [`qemu+ssh://h/system?command=${w}/evil.sh`, "qemu+ssh://nowhere.invalid/system"]) {
      forge(uri);
      const r = await sb.run("vminfo", "-i", "vm");
      equal(r.code, 0, r.stderr);
      equal(r.stderr, "");
      match(r.stdout, /^state='not running'$/m);
    }
    equal(readOr(`${w}/ran`), "");
    // Given on the command line, it is refused as well (vmdown could not follow it from the record).
    Deno.removeSync(`${w}/vm/qemu.json`);
    const r = await sb.run("vmup", `--libvirt=qemu+ext:///session?command=${w}/evil.sh`, "vm");
    equal(r.code, 1, r.stderr);
    match(r.stderr, /^vmup: libvirt URI .* runs a program/, r.stderr);
    equal(readOr(`${w}/ran`), "");
  } finally {
    await sb.cleanup();
  }
});

/** Runs a program the test needs, failing with what it said. */
function sh(program: string, ...args: string[]): string {
  const out = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${program} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout).trim();
}

/** Loop devices need root, and a kernel (or container) that offers them. */
const canLoop = Deno.uid() === 0 &&
  new Deno.Command("losetup", { args: ["-f"], stdout: "null", stderr: "null" }).outputSync().success;

Deno.test({
  name:
    "vmup --libvirt refuses a disk this host has mounted, as vmup does, before libvirt is asked to start it",
  ignore: !canLoop,
  fn: async () => {
    const sb = new Sandbox();
    try {
      const w = sb.work;
      await bootSectorVm(sb);
      const fs = `${w}/fs.img`;
      Deno.writeFileSync(fs, new Uint8Array(0));
      Deno.truncateSync(fs, 8 * 2 ** 20);
      sh("mkfs.ext2", "-q", "-F", fs);
      Deno.mkdirSync(`${w}/mnt`);
      const dev = sh("losetup", "-f", "--show", fs);
      try {
        sh("mount", dev, `${w}/mnt`);
        try {
          setDisk(`${w}/vm`, dev);
          // libvirt's test driver (in the virsh process) would take any disk: the check is vmup's own.
          const r = await sb.run("vmup", "--libvirt=test:///default", "vm");
          equal(r.code, 1, r.stderr);
          equal(
            r.stderr,
            `vmup: hdd1 (${dev}): in use on this host (${dev} is mounted on ${w}/mnt); a VM must not share a disk with it\n`,
          );
          equal(readOr(`${w}/vm/qemu.json`), "");
        } finally {
          sh("umount", `${w}/mnt`);
        }
      } finally {
        sh("losetup", "-d", dev);
      }
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test({
  name: "vmup --libvirt gives a device the kernel holds read-only snapshot mode, as vmup does",
  ignore: !canLoop,
  fn: async () => {
    const sb = new Sandbox();
    try {
      const w = sb.work;
      await bootSectorVm(sb);
      const dev = sh("losetup", "-r", "-f", "--show", `${w}/boot.img`);
      try {
        setDisk(`${w}/vm`, dev);
        const r = await sb.run("vmup", "--libvirt=test:///default", "-n", "vm");
        equal(r.code, 0, r.stderr);
        match(
          r.stderr,
          new RegExp(`hdd1 \\(${dev}\\): read-only for you \\(the kernel holds it read-only\\)`),
        );
        match(r.stdout, new RegExp(`<source dev='${dev}'/>[^]*?<transient/>`));
        // Asked for read-write, it is refused as vmup refuses it.
        setDisk(`${w}/vm`, `rw:${dev}`);
        const rw = await sb.run("vmup", "--libvirt=test:///default", "-n", "vm");
        equal(rw.code, 1, rw.stderr);
        match(rw.stderr, /rw: asked, but the kernel holds it read-only; use snap: or ro:/);
      } finally {
        sh("losetup", "-d", dev);
      }
    } finally {
      await sb.cleanup();
    }
  },
});

const unavailable = await libvirtDaemonUnavailable();
if (unavailable) console.log(`libvirt daemon tests skipped: ${unavailable}`);

Deno.test({
  name:
    "vmup --libvirt boots a fork under libvirt's daemon; vmps, vmmon and vmdown -w reach it; nothing stays defined",
  ignore: unavailable !== undefined,
  fn: async () => {
    const sb = new Sandbox();
    let uuid: string | undefined;
    try {
      await makeBootSectorDisk(`${sb.work}/boot.qcow2`, { message: "hello from libvirt", format: "qcow2" });
      const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "boot.qcow2", "vm");
      equal(c.code, 0, c.stderr);
      // A fork, so that libvirt gets a backing chain to follow.
      equal((await sb.run("vmfork", "vm", "vm/child")).code, 0);
      const home = `${sb.work}/vm/child`;

      // Returns once the guest has printed its line; a port forward QEMU picks a host port for, and a share.
      Deno.mkdirSync(`${sb.work}/shared`);
      const up = await sb.run(
        "vmup",
        "--libvirt",
        "--wait",
        "hello from libvirt",
        "--timeout",
        "120",
        "--json",
        "-o",
        "vm_networking_iface1_enable=yes",
        "-o",
        "vm_networking_iface1_hostfwd=tcp:127.0.0.1:0-:22",
        "-S",
        "shared",
        "vm/child",
      );
      equal(up.code, 0, up.stderr);
      match(
        up.stderr,
        /child: running under libvirt \(qemu:\/\/\/system\), display vnc:\/\/127\.0\.0\.1:59\d\d/,
      );
      match(up.stderr, /child: ready: .*hello from libvirt/);
      ok(readOr(`${home}/serial.log`).includes("hello from libvirt"));
      const record = JSON.parse(readOr(`${home}/qemu.json`));
      uuid = record.libvirt.uuid as string;
      equal(record.libvirt.uri, SYSTEM_URI);
      const [started] = JSON.parse(up.stdout);
      equal(started.engine, "libvirt");
      equal(started.uri, SYSTEM_URI);
      equal(started.pid, record.pid);
      equal(typeof started.pid, "number");
      equal(started.monitor, null);
      equal(started.serial, null);
      equal(started.log, `${home}/serial.log`);
      equal(started.forwards.length, 1, up.stdout);
      const [fwd] = started.forwards;
      deepEqual({ ...fwd, hostPort: 0 }, {
        iface: 1,
        protocol: "tcp",
        host: "127.0.0.1",
        hostPort: 0,
        guest: "10.0.2.15",
        guestPort: 22,
      });
      ok(fwd.hostPort > 0, `picked ${fwd.hostPort}`);
      match(
        up.stderr,
        new RegExp(`child: port forward tcp:127\\.0\\.0\\.1:${fwd.hostPort}-10\\.0\\.2\\.15:22`),
      );

      const ps = await sb.run("vmps", "-r", "-o", "pngf", "-d", home);
      equal(ps.code, 0, ps.stderr);
      equal(
        ps.stdout,
        `${record.pid} child libvirt:${SYSTEM_URI} tcp:127.0.0.1:${fwd.hostPort}-10.0.2.15:22\n`,
      );
      const json = JSON.parse((await sb.run("vmps", "--json", "-d", home)).stdout);
      equal(json.length, 1);
      equal(json[0].engine, "libvirt");
      equal(json[0].uri, SYSTEM_URI);
      equal(json[0].home, home);
      deepEqual(json[0].forwards, started.forwards);

      const again = await sb.run("vmup", "vm/child");
      equal(again.code, 0, again.stderr);
      match(
        again.stderr,
        /already running \(pid \d+, under libvirt at qemu:\/\/\/system\), not started again/,
      );
      const mon = await sb.runWith({ stdin: "info status\n" }, "vmmon", "vm/child");
      equal(mon.code, 0, mon.stderr);
      equal(mon.stdout, "VM status: running\n");
      // The NIC and the share reached QEMU through <qemu:commandline>, beside libvirt's own devices.
      const pci = await sb.runWith({ stdin: "info pci\n" }, "vmmon", "vm/child");
      equal(pci.code, 0, pci.stderr);
      match(pci.stdout, /PCI device 1af4:1009/, "a virtio 9p device");
      match(pci.stdout, /Ethernet controller: PCI device 8086:100f/, "the e1000-82545em NIC");
      const info = (await sb.run("vminfo", "-il", "vm/child")).stdout;
      match(info, /^state=RUNNING$/m);
      match(info, /^run_state=running$/m);
      match(info, /^engine=libvirt$/m);
      match(info, new RegExp(`^uri='${SYSTEM_URI}'$`, "m"));
      ok(!/^(monitor|serial)=/m.test(info), info);
      // No console socket: --expect watches the log libvirt writes, while libvirt runs the domain.
      const expect = await sb.run("vmmon", "-s", "--expect", "never-printed", "--timeout", "1", "vm/child");
      equal(expect.code, 1);
      match(expect.stderr, /no line matching \/never-printed\/ .*within 1 s; the VM is left running/);
      const piped = await sb.runWith({ stdin: "x\n" }, "vmmon", "-s", "vm/child");
      equal(piped.code, 1);
      equal(
        piped.stderr,
        "vmmon: vm/child runs under libvirt: its serial console needs a terminal (virsh console); vmmon -f shows its output\n",
      );

      // The boot sector ignores the power button: SIGTERM after the timeout.
      const down = await sb.run("vmdown", "-w", "-o", "vm_qemu_shutdown_timeout=2", "vm/child");
      equal(down.code, 0, down.stderr);
      match(down.stderr, /child \(pid \d+\): terminated \(SIGTERM\)/);
      const all = await virsh("list", "--all", "--uuid");
      equal(all.code, 0, all.out);
      ok(!all.out.includes(uuid), `still defined in libvirt:\n${all.out}`);
      equal(readOr(`${home}/qemu.json`), "");
      equal((await sb.run("vmps", "-n", "-d", home)).code, 1);

      // Again, followed by vmmon -f until vmdown stops it by pid with SIGTERM alone.
      const second = await sb.run("vmup", "--libvirt", "vm/child");
      equal(second.code, 0, second.stderr);
      const pid = String(JSON.parse(readOr(`${home}/qemu.json`)).pid);
      const follow = sb.spawn({}, "vmmon", "-f", "vm/child");
      const followed = follow.output();
      const byPid = await sb.run("vmdown", "-t", "-p", pid);
      equal(byPid.code, 0, byPid.stderr);
      match(byPid.stderr, new RegExp(`child \\(pid ${pid}\\): terminated \\(SIGTERM\\)`));
      const log = await followed;
      equal(log.code, 0, new TextDecoder().decode(log.stderr));
      match(new TextDecoder().decode(log.stdout), /hello from libvirt/);
      ok(!(await virsh("list", "--all", "--uuid")).out.includes(uuid));
    } finally {
      if (uuid) await virsh("destroy", uuid);
      await sb.cleanup();
    }
  },
});

/** A system user of the tests' own for session daemons (made once), as `[uid, gid]`. */
function sessionUser(): [number, number] {
  const name = "vmtools-session";
  const known = new Deno.Command("getent", { args: ["passwd", name], stdout: "null" }).outputSync();
  if (!known.success) {
    sh(
      "useradd",
      "--system",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      name,
    );
  }
  return [Number(sh("id", "-u", name)), Number(sh("id", "-g", name))];
}

Deno.test({
  name:
    "as a user of their own, vmup --libvirt runs the VM under the user's session daemon, which libvirt starts",
  ignore: unavailable !== undefined,
  fn: async () => {
    const [uid, gid] = sessionUser();
    const sb = new Sandbox();
    const wrapper = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"];
    const as = async (command: string, ...args: string[]) => {
      const out = await sb.spawn({ wrapper }, command, ...args).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    try {
      await makeBootSectorDisk(`${sb.work}/boot.img`, { message: "hello from a session" });
      sh("chown", "-R", `${uid}:${gid}`, sb.dir);
      const c = await as(
        "vmcreate",
        "-y",
        "-n",
        ...SMALL_VM,
        "-o",
        "vm_display_type=none",
        "-c",
        "boot.img",
        "vm",
      );
      equal(c.code, 0, c.stderr);
      const up = await as("vmup", "--libvirt", "--wait", "hello from a session", "--timeout", "120", "vm");
      equal(up.code, 0, up.stderr);
      match(up.stderr, /vm: running under libvirt \(qemu:\/\/\/session\)/);
      const ps = await as("vmps", "-o", "ng");
      match(ps.stdout, /^vm +libvirt:qemu:\/\/\/session$/m);
      const down = await as("vmdown", "-k", "vm");
      equal(down.code, 0, down.stderr);
      equal((await as("vmps", "-o", "n")).stdout.trim(), "NAME");
      // Transient, so nothing stays defined in the user's session.
      const list = await new Deno.Command("setpriv", {
        args: [...wrapper.slice(1), "virsh", "-q", "-c", "qemu:///session", "list", "--all", "--name"],
        env: {
          HOME: sb.env.HOME,
          XDG_CONFIG_HOME: sb.env.XDG_CONFIG_HOME,
          XDG_RUNTIME_DIR: sb.env.XDG_RUNTIME_DIR,
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(new TextDecoder().decode(list.stdout).trim(), "", new TextDecoder().decode(list.stderr));
    } finally {
      // The session daemon stays a while after its last client: stop it, and anything else of that user.
      new Deno.Command("pkill", { args: ["-KILL", "-u", String(uid)] }).outputSync();
      await sb.cleanup();
    }
  },
});
