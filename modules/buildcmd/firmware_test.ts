import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { vmFiles } from "../../lib/home/files.ts";
import { ModuleLoader } from "../../lib/modules/loader.ts";
import { buildCommand } from "../../lib/qemu/build.ts";
import { parseSettings } from "../../lib/settings/file.ts";
import { resolveSettings } from "../../lib/settings/resolve.ts";
import { Logger } from "../../lib/ui/log.ts";
import { BUILTIN_MODULES } from "../registry.ts";
import { machineMatches, versioned } from "./firmware.ts";

const quiet = new Logger("test", -1, { out() {}, err() {}, errIsTerminal: false, inIsTerminal: false });

/** A firmware directory as Debian's ovmf lays it out, with small images of our own. */
function firmwareDir(dir: string): string {
  const fw = `${dir}/fw`;
  Deno.mkdirSync(`${fw}/descriptors`, { recursive: true });
  const entry = (name: string, code: string, vars: string, features: string[], machines: string[]) => {
    Deno.writeTextFileSync(`${fw}/${code}`, `code ${code}`);
    Deno.writeTextFileSync(`${fw}/${vars}`, `vars ${vars}`.padEnd(64, "."));
    Deno.writeTextFileSync(
      `${fw}/descriptors/${name}`,
      JSON.stringify({
        description: name,
        "interface-types": ["uefi"],
        mapping: {
          device: "flash",
          executable: { filename: `${fw}/${code}`, format: "raw" },
          "nvram-template": { filename: `${fw}/${vars}`, format: "raw" },
        },
        targets: [{ architecture: "x86_64", machines }],
        features,
      }),
    );
  };
  entry("40-secure-enrolled.json", "CODE.ms.fd", "VARS.ms.fd", [
    "enrolled-keys",
    "requires-smm",
    "secure-boot",
  ], ["pc-q35-*"]);
  entry("50-secure.json", "CODE.secboot.fd", "VARS.fd", ["requires-smm", "secure-boot"], ["pc-q35-*"]);
  entry("60-plain.json", "CODE.fd", "VARS.fd", ["acpi-s3"], ["pc-i440fx-*", "pc-q35-*"]);
  return fw;
}

async function build(text: string, overrides: [string, string][] = [], prepare?: (home: string) => void) {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-firmware-" });
  const fw = firmwareDir(dir);
  const roots = { share: `${dir}/none`, etc: `${dir}/none`, user: `${dir}/none` };
  const home = `${dir}/vm`;
  Deno.mkdirSync(home);
  prepare?.(home);
  const file = parseSettings(text, `${home}/vm.settings`, "vm");
  const { settings } = resolveSettings({
    roots,
    home,
    file,
    overrides: [["cfg_qemu_firmwaredirs", `${dir}/missing ${fw}/descriptors`], ...overrides],
  });
  try {
    const cmd = await buildCommand(
      settings,
      vmFiles(home, settings),
      { graphical: false },
      new ModuleLoader(roots, false, BUILTIN_MODULES),
      quiet,
    );
    const vars = (() => {
      try {
        return Deno.readTextFileSync(`${home}/efivars.fd`);
      } catch {
        return undefined;
      }
    })();
    return { args: cmd.args, fw, home, vars };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The pflash drives and SMM options of a command line. */
function firmwareArgs(args: string[]): string[] {
  return args.flatMap((a, i) =>
    (a === "-drive" && args[i + 1].startsWith("if=pflash")) || (a === "-global") ||
      (a === "-machine" && args[i + 1] === "smm=on")
      ? [a, args[i + 1]]
      : []
  );
}

Deno.test("bios (the default) leaves QEMU's own firmware", async () => {
  const { args, vars } = await build("");
  deepEqual(firmwareArgs(args), []);
  equal(vars, undefined);
});

Deno.test("uefi takes the first firmware without Secure Boot for the machine; the code read-only, the variables the VM's own", async () => {
  for (const machine of ["", "vm_qemu_machine=q35\n", "vm_qemu_params='-M pc-i440fx-7.2,accel=tcg'\n"]) {
    const { args, fw, home, vars } = await build(`vm_firmware=uefi\n${machine}`);
    deepEqual(firmwareArgs(args), [
      "-drive",
      `if=pflash,unit=0,format=raw,readonly=on,file=${fw}/CODE.fd`,
      "-drive",
      `if=pflash,unit=1,format=raw,file=${home}/efivars.fd`,
    ], machine);
    equal(vars, "vars VARS.fd".padEnd(64, "."));
  }
});

Deno.test("the variable store is made once: a VM's own is kept, and one of another size is refused", async () => {
  const own = "changed by the guest".padEnd(64, "!");
  const { vars } = await build(
    "vm_firmware=uefi\n",
    [],
    (home) => Deno.writeTextFileSync(`${home}/efivars.fd`, own),
  );
  equal(vars, own);
  await rejects(
    build("vm_firmware=uefi\n", [], (home) => Deno.writeTextFileSync(`${home}/efivars.fd`, "short")),
    /efivars\.fd: 5 bytes, but this firmware's variable store has 64 \(.*\/VARS\.fd\): it was made for another firmware; remove it/,
  );
});

Deno.test("a variable store that is a symbolic link is refused: the firmware would write where it leads", async () => {
  const other = Deno.makeTempFileSync({ prefix: "vmtools-other-vars-" });
  try {
    const theirs = "another VM's variables".padEnd(64, "#");
    Deno.writeTextFileSync(other, theirs);
    await rejects(
      build("vm_firmware=uefi\n", [], (home) => Deno.symlinkSync(other, `${home}/efivars.fd`)),
      /efivars\.fd: a symbolic link; the variable store must be the VM's own file/,
    );
    equal(Deno.readTextFileSync(other), theirs);
  } finally {
    Deno.removeSync(other);
  }
});

Deno.test("a snapshot or read-only start keeps the variable store as it is", async () => {
  for (const mode of ["snap", "ro"]) {
    const { args, home } = await build(`vm_firmware=uefi\nvm_storage_rwmode=${mode}\n`);
    ok(args.includes(`if=pflash,unit=1,format=raw,file=${home}/efivars.fd,snapshot=on`), mode);
  }
});

Deno.test("uefi-secure takes Secure Boot with enrolled keys on q35, with SMM", async () => {
  for (
    const machine of ["vm_qemu_machine=q35\n", "vm_qemu_params='-M q35'\n", "vm_qemu_machine=pc-q35-7.2\n"]
  ) {
    const { args, fw, home, vars } = await build(`vm_firmware=uefi-secure\n${machine}`);
    deepEqual(firmwareArgs(args), [
      "-machine",
      "smm=on",
      "-global",
      "driver=cfi.pflash01,property=secure,value=on",
      "-drive",
      `if=pflash,unit=0,format=raw,readonly=on,file=${fw}/CODE.ms.fd`,
      "-drive",
      `if=pflash,unit=1,format=raw,file=${home}/efivars.fd`,
    ], machine);
    equal(vars, "vars VARS.ms.fd".padEnd(64, "."));
  }
  await rejects(
    build("vm_firmware=uefi-secure\n"),
    /vm_firmware=uefi-secure needs the q35 machine, whose SMM protects the Secure Boot keys \(vm_qemu_machine=q35; now pc\)/,
  );
});

Deno.test("no firmware: one message naming where vmtools looked and the package", async () => {
  const message = (err: Error, text: string) => {
    equal(err.message, text);
    return true;
  };
  await rejects(
    build("vm_firmware=uefi\n", [["cfg_qemu_firmwaredirs", "/nonexistent/a /nonexistent/b"]]),
    (e: Error) =>
      message(
        e,
        "built-in module firmware: vm_firmware=uefi: no UEFI firmware for x86_64 machine pc described in /nonexistent/a, /nonexistent/b (install the Debian package ovmf)",
      ),
  );
  // A descriptor whose images are gone does not count.
  await rejects(
    build("vm_firmware=uefi\n", [], (home) => Deno.removeSync(`${home}/../fw/CODE.fd`)),
    /no UEFI firmware for x86_64 machine pc described in .*\/fw\/descriptors \(install the Debian package ovmf\)$/,
  );
  await rejects(build("vm_firmware=bogus\n"), /vm_firmware='bogus': expected bios, uefi or uefi-secure/);
});

Deno.test("machine aliases stand for QEMU's newest version of the machine", () => {
  equal(versioned("q35"), "pc-q35-999.0");
  equal(versioned("pc"), "pc-i440fx-999.0");
  equal(versioned("pc-q35-7.2"), "pc-q35-7.2");
  ok(machineMatches("pc-q35-*", versioned("q35")));
  ok(machineMatches("pc-q35-7.?", "pc-q35-7.2"));
  ok(!machineMatches("pc-q35-2.*", versioned("q35")));
  ok(!machineMatches("pc-i440fx-*", versioned("q35")));
  ok(machineMatches("virt-*", versioned("virt")));
});
