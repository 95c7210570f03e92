/**
 * The installed program, as a user gets it from scripts/install: the
 * command links boot real guests, vmcreate stores only what differs, and
 * code inside it cannot rewrite the installed files.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { GUEST_READY_LINE, linuxGuestIso } from "../fixtures/linux.ts";
import { DEFAULTS } from "../../lib/settings/defaults.ts";
import { COMMAND_NAMES, readOr, Sandbox, VMTOOLS_COMMAND, waitFor } from "../helpers/vmtools.ts";
import { installInto } from "../helpers/install.ts";

/**
 * A module trying to write to the installed program's files. The deny goes
 * by path name: through a symbolic link it makes itself a module still gets
 * there (vmtools(7) SECURITY says so), which "via-link" keeps measured.
 */
function installProbe(prefix: string): string {
  const [home, bin] = [JSON.stringify(`${prefix}/lib/vmtools`), JSON.stringify(`${prefix}/bin`)];
  return `
export default async function c_probe() {
  const results = {};
  const attempt = (name, f) => {
    try { f(); results[name] = "allowed"; } catch (e) { results[name] = e.constructor.name; }
  };
  attempt("deno.json", () => Deno.writeTextFileSync(${home} + "/deno.json", "{}"));
  attempt("launcher", () => Deno.writeTextFileSync(${bin} + "/vmtools", "#!/bin/sh"));
  attempt("link", () => Deno.removeSync(${bin} + "/vmup"));
  const link = Deno.env.get("HOME") + "/to-install";
  attempt("via-link", () => {
    Deno.symlinkSync(${home}, link);
    Deno.writeTextFileSync(link + "/.probe-through-link", "x");
  });
  Deno.writeTextFileSync(Deno.env.get("HOME") + "/probe.json", JSON.stringify(results));
}
`;
}

Deno.test("scripts/install PREFIX gives working command links and man pages", async () => {
  const sb = new Sandbox();
  try {
    const prefix = `${sb.dir}/prefix with space`;
    const run = await installed(sb, prefix);
    for (const name of COMMAND_NAMES) {
      equal(Deno.readLinkSync(`${prefix}/bin/${name}`), "vmtools", name);
    }
    ok(Deno.statSync(`${prefix}/share/man/man1/vmup.1`).isFile);
    ok(Deno.statSync(`${prefix}/share/man/man5/vmtools.conf.5`).isFile);
    // Completions where the shells look, under every command name.
    const [bashDir, fishDir] = [
      `${prefix}/share/bash-completion/completions`,
      `${prefix}/share/fish/vendor_completions.d`,
    ];
    for (const name of COMMAND_NAMES) {
      equal(Deno.readLinkSync(`${bashDir}/${name}`), "vmtools", name);
      equal(Deno.readLinkSync(`${fishDir}/${name}.fish`), "vmtools.fish", name);
    }
    match(readOr(`${prefix}/share/zsh/site-functions/_vmtools`), /^#compdef vmtools vmup vmcreate /);
    match(readOr(`${fishDir}/vmtools.fish`), /^complete -c vmrndmac -s h -l help /m);
    const loaded = await new Deno.Command("bash", {
      args: ["-c", 'source "$1" && complete -p vmup vmrndmac', "bash", `${bashDir}/vmup`],
      stdout: "piped",
    }).output();
    equal(
      new TextDecoder().decode(loaded.stdout),
      "complete -F _vmtools vmup\ncomplete -F _vmtools vmrndmac\n",
    );
    const tcg = ["-o", "vm_qemu_accel=tcg", "-o", "vm_display_type=none"];
    await makeBootSectorDisk(`${sb.work}/disk.img`, { message: "installed vmup" });
    sb.write("etc/modules/buildcmd/c_probe.ts", installProbe(prefix));
    const config = readOr(`${prefix}/lib/vmtools/deno.json`);
    const launcher = readOr(`${prefix}/bin/vmtools`);
    // A module typed as modules/buildcmd/README.md shows, against the installed api.ts.
    const api = `${prefix}/lib/vmtools/lib/modules/api.ts`;
    const typed = sb.write(
      "etc/modules/buildcmd/c_typed.ts",
      `import type { BuildcmdContext } from ${JSON.stringify(api)};
export default function typed({ files }: BuildcmdContext) { Deno.writeTextFileSync(files.dir + "/typed", "ran"); }\n`,
    );
    const checked = await new Deno.Command(VMTOOLS_COMMAND[0], {
      args: ["check", "-q", "--no-config", typed],
    }).output();
    equal(checked.code, 0, `deno check ${typed} against ${api}: ${new TextDecoder().decode(checked.stderr)}`);
    const probe = [
      "-o",
      `cfg_modules_buildcmd=${DEFAULTS.cfg_modules_buildcmd} c_probe`,
      "-o",
      "cfg_modules_buildcmd=+c_typed",
    ];
    const up = await run("vmup", ...tcg, ...probe, "./disk.img");
    equal(up.code, 0, up.stderr);
    deepEqual(JSON.parse(readOr(`${sb.dir}/home/probe.json`)), {
      "deno.json": "NotCapable",
      launcher: "NotCapable",
      link: "NotCapable",
      "via-link": "allowed",
    });
    equal(readOr(`${prefix}/lib/vmtools/deno.json`), config);
    equal(readOr(`${prefix}/bin/vmtools`), launcher);
    equal(Deno.readLinkSync(`${prefix}/bin/vmup`), "vmtools");
    const dir = /files in (.*)$/m.exec(up.stderr)![1];
    equal(readOr(`${dir}/typed`), "ran", "the typed module, added with +c_typed, ran under the launcher");
    await waitFor(() => readOr(`${dir}/serial.log`).includes("installed vmup"), 15000, "bare boot");
    await sb.cleanupVms();

    await makeBootSectorDisk(`${sb.work}/disk.qcow2`, { message: "installed vmcreate", format: "qcow2" });
    const created = await run("vmcreate", "-y", "-n", ...tcg, "-c", "./disk.qcow2", "./vm1");
    equal(created.code, 0, created.stderr);
    const up2 = await run("vmup", "./vm1");
    equal(up2.code, 0, up2.stderr);
    await waitFor(() => readOr(`${sb.work}/vm1/serial.log`).includes("installed vmcreate"), 15000, "VM boot");
    const lines = readOr(`${sb.work}/vm1/vm.settings`).split("\n").filter((l) => l && !l.startsWith("#"));
    deepEqual(lines.map((l) => l.split("=")[0]), [
      "vm_qemu_accel",
      "vm_display_type",
      "vm_storage_hdd1_enable",
      "vm_storage_hdd1_backend",
      "vm_networking_iface1_enable",
      "vm_networking_iface1_mac",
    ]);
    match((await run("vmrndmac")).stdout, /^52:54:00(:[0-9a-f]{2}){3}\n$/);

    // The tree commands, installed: a fork boots, the tree shows, a copy and a delete.
    equal((await run("vmdown", "-k", "./vm1")).code, 0);
    const fork = await run("vmfork", "./vm1", "./vm1/child");
    equal(fork.code, 0, fork.stderr);
    equal((await run("vmup", "./vm1/child")).code, 0);
    await waitFor(
      () => readOr(`${sb.work}/vm1/child/serial.log`).includes("installed vmcreate"),
      15000,
      "fork boot",
    );
    equal((await run("vminfo", "-t", "./vm1")).stdout, "vm1 *\n└── child R\n");
    equal((await run("vmdown", "-k", "./vm1/child")).code, 0);
    equal((await run("vmcp", "-a", "./vm1/child", "./standalone")).code, 0);
    equal((await run("vmrm", "-y", "-r", "./vm1")).code, 0);
    equal(readOr(`${sb.work}/vm1/vm.settings`), "");
    match(readOr(`${sb.work}/standalone/vm.settings`), /autonomous copy of 'child'/);
  } finally {
    await sb.cleanup();
  }
});

/** Installs into `prefix` and returns a runner for the installed commands. */
async function installed(sb: Sandbox, prefix: string) {
  await installInto(prefix);
  return async (cmd: string, ...args: string[]) => {
    const out = await new Deno.Command(`${prefix}/bin/${cmd}`, {
      args,
      cwd: sb.work,
      env: { ...sb.env },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
}

Deno.test("a Linux guest through the installed commands: up, ps, mon, ACPI down", async () => {
  const sb = new Sandbox();
  try {
    const run = await installed(sb, `${sb.dir}/p`);
    const iso = `${sb.work}/guest.iso`;
    Deno.copyFileSync(await linuxGuestIso(), iso);
    const up = await run(
      "vmup",
      "-o",
      "vm_qemu_accel=tcg",
      "-o",
      "vm_display_type=vnc",
      "-o",
      "vm_ram_size=256M",
      "-o",
      "vm_name=guest",
      "guest.iso",
    );
    equal(up.code, 0, up.stderr);
    const dir = /files in (.*)$/m.exec(up.stderr)![1];
    const ps = await run("vmps", "-r", "-o", "nhd", "-d", dir);
    equal(ps.code, 0, ps.stderr);
    match(ps.stdout, new RegExp(`^guest +${dir.replace(/[.]/g, "\\.")} +vnc://127\\.0\\.0\\.1:59\\d\\d\\n$`));
    await waitFor(() => readOr(`${dir}/serial.log`).includes(GUEST_READY_LINE), 120000, "the guest to boot");
    const status = await new Deno.Command(`${sb.dir}/p/bin/vmmon`, {
      args: [dir],
      env: { ...sb.env },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = status.stdin.getWriter();
    await w.write(new TextEncoder().encode("info status\n"));
    await w.close();
    match(new TextDecoder().decode((await status.output()).stdout), /VM status: running/);
    const down = await run("vmdown", "-s", "-w", dir);
    equal(down.code, 0, down.stderr);
    match(down.stderr, /powered off by the guest/);
    const gone = await run("vmps", "-n", "-d", dir);
    equal(gone.code, 1, "vmps -n finds nothing once the guest powered itself off");
  } finally {
    await sb.cleanup();
  }
});
