/**
 * The installed program, as a user gets it from scripts/install: the
 * command links boot real guests and vmcreate stores only what differs.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { PROJECT_ROOT, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

Deno.test("scripts/install PREFIX gives working command links and man pages", async () => {
  const sb = new Sandbox();
  try {
    const prefix = `${sb.dir}/prefix with space`;
    const inst = await new Deno.Command("bash", {
      args: [`${PROJECT_ROOT}/scripts/install`, prefix],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(inst.code, 0, new TextDecoder().decode(inst.stderr));
    for (
      const name of [
        "vmup",
        "vmcreate",
        "vmdown",
        "vmps",
        "vminfo",
        "vmcp",
        "vmfork",
        "vmmerge",
        "vmmv",
        "vmrm",
        "vmfix",
        "vmmon",
        "vmrndmac",
      ]
    ) {
      equal(Deno.readLinkSync(`${prefix}/bin/${name}`), "vmtools", name);
    }
    ok(Deno.statSync(`${prefix}/share/man/man1/vmup.1`).isFile);
    ok(Deno.statSync(`${prefix}/share/man/man5/vmtools.conf.5`).isFile);
    const run = async (cmd: string, ...args: string[]) => {
      const out = await new Deno.Command(`${prefix}/bin/${cmd}`, {
        args,
        cwd: sb.work,
        env: { ...sb.env },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const tcg = ["-o", "vm_qemu_accel=tcg", "-o", "vm_display_type=none"];
    await makeBootSectorDisk(`${sb.work}/disk.img`, { message: "installed vmup" });
    const up = await run("vmup", ...tcg, "./disk.img");
    equal(up.code, 0, up.stderr);
    const dir = /files in (.*)$/m.exec(up.stderr)![1];
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
  } finally {
    await sb.cleanup();
  }
});
