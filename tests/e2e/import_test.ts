/**
 * Machines made elsewhere boot: an OVF appliance (`.ova`: a tar of a
 * descriptor, a manifest and a streamOptimized vmdk, made here by the
 * system's tar) and a VMware `.vmx` beside its vmdk, each bare with `vmup`
 * and kept with `vmcreate -c`, the guest's serial line proving it. Broken
 * ones are one line each, exit 1, and leave nothing behind.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { bootVmdk, makeOva } from "../fixtures/ova.ts";
import { HEADLESS_TCG, readOr, type RunResult, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** Every path below `dir`, sorted (what a failed command must leave as it was). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      out.push(`${rel}${e.name}`);
      if (e.isDirectory) walk(`${d}/${e.name}`, `${rel}${e.name}/`);
    }
  };
  try {
    walk(dir, "");
  } catch { /* missing: empty */ }
  return out.sort();
}

/** What a failed command may have made below the sandbox: all but the runtime directories' common parent. */
function state(sb: Sandbox): string[] {
  return tree(sb.dir).filter((p) => p !== "run/vmtools");
}

/** The runtime directory a bare boot reported. */
function filesIn(r: RunResult): string {
  const dir = /files in (.*)$/m.exec(r.stderr)?.[1];
  if (!dir) throw new Error(`vmup did not say where its files are: ${r.stderr}`);
  return dir;
}

function settingsLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l && !l.startsWith("#"));
}

/**
 * Asserts a command failed with exactly one line on stderr matching
 * `expected` (besides, where a conversion began, the line announcing it).
 */
function oneLineError(r: RunResult, expected: RegExp, what: string): void {
  equal(r.code, 1, `${what}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("converting "));
  equal(lines.length, 1, `${what}: ${r.stderr}`);
  match(lines[0], expected, what);
  equal(/internal error| {4}at /.test(r.stderr), false, r.stderr);
}

Deno.test("vmup -y foo.ova boots the appliance bare, its disk converted beside it, with the descriptor's values", async () => {
  const sb = new Sandbox();
  try {
    await makeOva(`${sb.work}/app.ova`, { message: "hello from the ova" });
    const r = await sb.run("vmup", "-y", "-vvv", ...HEADLESS_TCG, "app.ova");
    equal(r.code, 0, r.stderr);
    // The descriptor's name, CPUs, memory and adapter are on QEMU's command line.
    match(r.stderr, /-smp 1 /);
    match(r.stderr, /-m 48M /);
    match(r.stderr, /-name 'Appliance One' /);
    match(r.stderr, /-device e1000-82545em,mac=[0-9a-f:]+,netdev=nd1/);
    match(r.stderr, new RegExp(`file=${sb.work}/app\\.qcow2,format=qcow2`));
    deepEqual(tree(sb.work), ["app.ova", "app.qcow2"]);
    const dir = filesIn(r);
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes("hello from the ova"),
      30000,
      "the appliance's message",
    );
    // Again with -y: the first conversion is kept, and the message says how to boot it.
    const again = await sb.run("vmup", "-y", "-n", ...HEADLESS_TCG, "app.ova");
    equal(again.code, 1, again.stderr);
    match(again.stderr, new RegExp(`to boot that earlier conversion, vmup ${sb.work}/app\\.qcow2\n$`));
    deepEqual(tree(sb.work), ["app.ova", "app.qcow2"]);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcreate -c foo.ova converts into the home, proposing the descriptor's answers; vmup boots it", async () => {
  const sb = new Sandbox();
  try {
    await makeOva(`${sb.work}/app.ova`, {
      message: "hello from the kept ova",
      spec: { name: "Appliance One", memoryMiB: 40, cpus: 3, nics: 1 },
    });
    // Asked, the questions propose what the descriptor says (empty answers take the proposals).
    const asked = await sb.runWith({ stdin: "\n\n\n" }, "vmcreate", "-n", "-c", "app.ova", "asked");
    equal(asked.code, 0, asked.stderr);
    match(asked.stderr, /Number of virtual CPUs \[3\]/);
    match(asked.stderr, /Memory size \[40M\]/);
    match(asked.stderr, /Enable network interface 1 \(yes\/no\) \[yes\]/);

    const made = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "app.ova", "vm");
    equal(made.code, 0, made.stderr);
    const lines = settingsLines(`${sb.work}/vm/vm.settings`);
    for (
      const line of [
        "vm_name='Appliance One'",
        "vm_cpu_count=3",
        "vm_ram_size=40M",
        "vm_storage_hdd1_enable=yes",
        "vm_storage_hdd1_backend=app.qcow2",
        "vm_networking_iface1_enable=yes",
      ]
    ) ok(lines.includes(line), `${line} in ${lines.join("; ")}`);
    ok(lines.some((l) => /^vm_networking_iface1_mac='52:54:00(:[0-9a-f]{2}){3}'$/.test(l)), lines.join("; "));
    deepEqual(tree(sb.work), [
      "app.ova",
      "asked",
      "asked/app.qcow2",
      "asked/vm.settings",
      "vm",
      "vm/app.qcow2",
      "vm/vm.settings",
    ]);

    // -o wins over the descriptor.
    const own = await sb.run("vmcreate", "-y", "-n", "-o", "vm_ram_size=64M", "-c", "app.ova", "own");
    equal(own.code, 0, own.stderr);
    ok(settingsLines(`${sb.work}/own/vm.settings`).includes("vm_ram_size=64M"));

    const up = await sb.run("vmup", "vm");
    equal(up.code, 0, up.stderr);
    await waitFor(
      () => readOr(`${sb.work}/vm/serial.log`).includes("hello from the kept ova"),
      30000,
      "the kept appliance's message",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("an appliance's disks go to hdd1, hdd2 (an empty one created); no network adapter proposes none", async () => {
  const sb = new Sandbox();
  try {
    await makeOva(`${sb.work}/two.ova`, {
      message: "x",
      spec: { nics: 0, disks: [{ id: "boot", file: "boot.vmdk", capacity: 1 }, { id: "data", capacity: 3 }] },
    });
    const r = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "two.ova", "vm");
    equal(r.code, 0, r.stderr);
    const lines = settingsLines(`${sb.work}/vm/vm.settings`);
    ok(lines.includes("vm_storage_hdd1_backend=two-disk1.qcow2"), lines.join("; "));
    ok(lines.includes("vm_storage_hdd2_backend=two-disk2.qcow2"), lines.join("; "));
    ok(lines.includes("vm_storage_hdd2_enable=yes"), lines.join("; "));
    ok(lines.includes("vm_networking_iface1_enable=no"), lines.join("; "));
    equal(lines.some((l) => l.startsWith("vm_networking_iface1_mac")), false, lines.join("; "));
    const info = await new Deno.Command("qemu-img", {
      args: ["info", "--output=json", `${sb.work}/vm/two-disk2.qcow2`],
      stdout: "piped",
    }).output();
    equal(JSON.parse(new TextDecoder().decode(info.stdout))["virtual-size"], 3 * 2 ** 20);

    const three = await sb.run("vmcreate", "-y", "-n", "-c", "two.ova", "-c", "two.ova", "vm3");
    oneLineError(three, /too many hard disks: 4 with .*two\.ova \(2\).*and a VM has 2/, "four disks");
    equal(tree(sb.work).includes("vm3"), false);

    // Three adapters: all three enabled, each with a MAC of its own in a kept VM.
    await makeOva(`${sb.work}/nics.ova`, { message: "x", spec: { nics: 3, mac: "08:00:27:00:00:01" } });
    const nics = await sb.run("vmcreate", "-y", "-n", ...HEADLESS_TCG, "-c", "nics.ova", "nics");
    equal(nics.code, 0, nics.stderr);
    const kept = settingsLines(`${sb.work}/nics/vm.settings`);
    ok(kept.includes("vm_networking_iface1_mac='08:00:27:00:00:01'"), kept.join("; "));
    for (const n of [1, 2, 3]) ok(kept.includes(`vm_networking_iface${n}_enable=yes`), kept.join("; "));
    const macs = kept.filter((l) => /^vm_networking_iface\d_mac=/.test(l)).map((l) => l.split("=")[1]);
    equal(new Set(macs).size, 3, kept.join("; "));
    const line = await sb.run("vmup", "-n", "nics");
    equal(line.stdout.match(/-device e1000-82545em,mac=/g)?.length, 3, line.stdout);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a truncated or corrupt appliance, a checksum mismatch, a missing disk, bad XML: one line, exit 1, nothing left", async () => {
  const sb = new Sandbox();
  try {
    await makeOva(`${sb.work}/good.ova`, { message: "x" });
    const good = Deno.readFileSync(`${sb.work}/good.ova`);
    Deno.writeFileSync(`${sb.work}/truncated.ova`, good.subarray(0, Math.floor(good.length * 0.6)));
    await makeOva(`${sb.work}/mismatch.ova`, {
      message: "x",
      editManifest: (t) => t.replace(/(vmdk\)= )(.)/, (_, a, c) => a + (c === "0" ? "1" : "0")),
    });
    await makeOva(`${sb.work}/missing.ova`, { message: "x", leaveOut: ["appliance-disk1.vmdk"] });
    await makeOva(`${sb.work}/xml.ova`, {
      message: "x",
      descriptor: '<?xml version="1.0"?>\n<Envelope>\n  <References>\n</Envelope>\n',
    });
    // Its digests are right, but the compressed data of its one grain is not: qemu-img fails half-way.
    await makeOva(`${sb.work}/corrupt.ova`, {
      message: "x",
      editDisk: (d) => {
        for (let i = 0x10000 + 12; i < 0x10000 + 60; i++) d[i] ^= 0xa5;
      },
    });
    Deno.removeSync(`${sb.work}/good.ova`);
    const cases: [string, RegExp][] = [
      ["truncated", /truncated\.ova: the archive is truncated \(it ends inside a file\)$/],
      [
        "mismatch",
        /mismatch\.ova: checksum mismatch for appliance-disk1\.vmdk \(SHA256\): the archive is damaged/,
      ],
      [
        "missing",
        /missing\.ova: the descriptor names appliance-disk1\.vmdk, which the archive does not hold$/,
      ],
      ["xml", /xml\.ova: appliance\.ovf:4:1: not well-formed XML: Expected closing tag 'References'/],
      ["corrupt", /cannot convert corrupt\.ova: appliance-disk1\.vmdk: /],
    ];
    const before = state(sb);
    for (const [name, expected] of cases) {
      const created = await sb.run("vmcreate", "-y", ...HEADLESS_TCG, "-c", `${name}.ova`, "vm");
      oneLineError(created, new RegExp(`^vmcreate: .*${expected.source}`), `vmcreate -c ${name}.ova`);
      const bare = await sb.run("vmup", "-y", ...HEADLESS_TCG, `${name}.ova`);
      oneLineError(bare, new RegExp(`^vmup: .*${expected.source}`), `vmup ${name}.ova`);
      // No home, no converted or half-converted disk, no runtime directory, no journal.
      const after = state(sb);
      deepEqual(after, before, `${name}: made ${after.filter((p) => !before.includes(p))}`);
    }
  } finally {
    await sb.cleanup();
  }
});

const VMX = `#!/usr/bin/vmware
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
displayName = "VMware Guest"
guestOS = "other"
memsize = "56"
numvcpus = "1"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsilogic"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "disk.vmdk"
ide1:0.present = "TRUE"
ide1:0.deviceType = "cdrom-image"
ide1:0.fileName = "/nonexistent/installer.iso"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "e1000"
ethernet0.addressType = "generated"
ethernet0.generatedAddress = "00:0c:29:12:34:56"
`;

Deno.test("a .vmx beside its vmdk: vmcreate -y -c machine.vmx vm and vmup machine.vmx boot it", async () => {
  const sb = new Sandbox();
  try {
    Deno.mkdirSync(`${sb.work}/VMware Guest`);
    const vm = `${sb.work}/VMware Guest`;
    // As VMware keeps them: a descriptor beside its flat extent.
    await bootVmdk(`${vm}/disk.vmdk`, "hello from vmware", "monolithicFlat");
    Deno.writeTextFileSync(`${vm}/machine.vmx`, VMX);

    const made = await sb.run("vmcreate", "-y", ...HEADLESS_TCG, "-c", `${vm}/machine.vmx`, "kept");
    equal(made.code, 0, made.stderr);
    const lines = settingsLines(`${sb.work}/kept/vm.settings`);
    for (
      const line of [
        "vm_name='VMware Guest'",
        "vm_cpu_count=1",
        "vm_ram_size=56M",
        "vm_storage_hdd1_backend=disk.qcow2",
        "vm_networking_iface1_enable=yes",
        "vm_networking_iface1_mac='00:0c:29:12:34:56'",
      ]
    ) ok(lines.includes(line), `${line} in ${lines.join("; ")}`);
    await waitFor(
      () => readOr(`${sb.work}/kept/serial.log`).includes("hello from vmware"),
      30000,
      "the imported VM's message",
    );

    const bare = await sb.run("vmup", "-y", "-vvv", ...HEADLESS_TCG, `${vm}/machine.vmx`);
    equal(bare.code, 0, bare.stderr);
    match(bare.stderr, /-device e1000-82545em,mac=00:0c:29:12:34:56,netdev=nd1/);
    match(bare.stderr, /-m 56M /);
    deepEqual(tree(vm), ["disk-flat.vmdk", "disk.qcow2", "disk.vmdk", "machine.vmx"]);
    const dir = filesIn(bare);
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes("hello from vmware"),
      30000,
      "the bare VM's message",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a malformed .vmx, or one naming a missing disk, is one line with file:line, exit 1, nothing left", async () => {
  const sb = new Sandbox();
  try {
    await bootVmdk(`${sb.work}/disk.vmdk`, "x");
    sb.write("work/bad.vmx", VMX.replace('guestOS = "other"', "guestOS other"));
    sb.write("work/gone.vmx", VMX.replace('"disk.vmdk"', '"gone.vmdk"'));
    const before = state(sb);
    for (
      const [file, expected] of [
        ["bad.vmx", /bad\.vmx:6: expected key = "value", found 'guestOS other'$/],
        ["gone.vmx", /gone\.vmx:12: scsi0:0\.filename = "gone\.vmdk": no such disk image/],
      ] as const
    ) {
      oneLineError(await sb.run("vmup", "-y", ...HEADLESS_TCG, file), expected, `vmup ${file}`);
      oneLineError(await sb.run("vmcreate", "-y", "-c", file, "vm"), expected, `vmcreate -c ${file}`);
      deepEqual(state(sb), before, file);
    }
  } finally {
    await sb.cleanup();
  }
});
