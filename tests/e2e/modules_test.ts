/**
 * Modules from the three configuration roots replace built-ins per file,
 * with the user's (only when enabled) over /etc over /usr/local/share; a
 * broken module is named in one clear message.
 */
import { equal, match } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HEADLESS_TCG, Sandbox } from "../helpers/vmtools.ts";

/** A buildcmd `ram` module that gives `mib` MiB whatever the settings say. */
const ramModule = (mib: number) => `export default function ram({ qemu }) { qemu.add("-m", "${mib}M"); }\n`;

async function commandLine(
  sb: Sandbox,
  disk: string,
  ...extra: string[]
): Promise<string> {
  const r = await sb.run("vmup", "-n", "-vvv", ...HEADLESS_TCG, ...extra, disk);
  equal(r.code, 0, r.stderr);
  return /would run (.*)$/m.exec(r.stderr)![1];
}

Deno.test("a module in each root overrides the built-in, highest precedence winning", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    match(await commandLine(sb, disk), / -m 2048M /);
    sb.write("share/modules/buildcmd/ram.ts", ramModule(111));
    match(await commandLine(sb, disk), / -m 111M /);
    sb.write("etc/modules/buildcmd/ram.ts", ramModule(222));
    match(await commandLine(sb, disk), / -m 222M /);
    sb.write("home/.config/vmtools/modules/buildcmd/ram.ts", ramModule(333));
    match(
      await commandLine(sb, disk),
      / -m 222M /,
      "the user's root needs cfg_include_userhome=yes",
    );
    match(
      await commandLine(sb, disk, "-o", "cfg_include_userhome=yes"),
      / -m 333M /,
    );
    sb.write("etc/vmtools.conf", "cfg_include_userhome=yes\n");
    match(await commandLine(sb, disk), / -m 333M /);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a new module runs once added to its list, and sees what earlier ones built", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    sb.write(
      "etc/modules/buildcmd/c_audit.ts",
      `export default function audit({ qemu, settings }) {
  qemu.remove("-name");
  qemu.add("-name", "audited-" + settings.get("vm_custom_tag") + "-" + qemu.binary);
}\n`,
    );
    const line = await commandLine(
      sb,
      disk,
      "-o",
      "cfg_modules_buildcmd=qemu name c_audit",
      "-o",
      "vm_custom_tag=t1",
    );
    equal(line.split(" -name ").length, 2);
    match(line, / -name audited-t1-qemu-system-x86_64$/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("broken modules are named: syntax error, throwing, no function, unknown name", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const path = sb.write(
      "share/modules/buildcmd/ram.ts",
      "export default function ram( {\n",
    );
    let r = await sb.run("vmup", "-n", ...HEADLESS_TCG, disk);
    equal(r.code, 1);
    match(r.stderr, new RegExp(`^vmup: module ${path} failed to load: `));
    sb.write(
      "share/modules/buildcmd/ram.ts",
      `export default () => { throw new Error("no RAM today"); };\n`,
    );
    r = await sb.run("vmup", "-n", ...HEADLESS_TCG, disk);
    equal(r.code, 1);
    equal(r.stderr, `vmup: module ${path}: no RAM today\n`);
    sb.write("share/modules/buildcmd/ram.ts", `export const x = 1;\n`);
    r = await sb.run("vmup", "-n", ...HEADLESS_TCG, disk);
    equal(r.stderr, `vmup: module ${path} must default-export a function\n`);
    r = await sb.run(
      "vmup",
      "-n",
      ...HEADLESS_TCG,
      "-o",
      "cfg_modules_buildcmd=qemu nope",
      disk,
    );
    equal(r.code, 1);
    match(
      r.stderr,
      /cfg_modules_buildcmd: no module 'nope' in modules\/buildcmd\//,
    );
    r = await sb.run(
      "vmup",
      "-n",
      ...HEADLESS_TCG,
      "-o",
      "cfg_modules_buildcmd=qemu ../x",
      disk,
    );
    match(r.stderr, /bad module name '..\/x'/);
    equal(
      [...Deno.readDirSync(`${sb.dir}/run/vmtools`)].length,
      0,
      "failed starts leave no runtime directory",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("templates from the roots apply, and configure modules can be replaced", async () => {
  const sb = new Sandbox();
  try {
    sb.write("etc/templates/team.tpl", "template modern\nvm_ram_size=3G\n");
    sb.write(
      "share/modules/configure/settings/cpu_count.ts",
      `export default async function cpu({ set, ask }) { set("vm_cpu_count", await ask("cores?", "7")); }\n`,
    );
    const r = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      "-t",
      "team",
      "-o",
      "vm_storage_hdd1_createsize=0",
      "vm",
    );
    equal(r.code, 0, r.stderr);
    const text = Deno.readTextFileSync(`${sb.work}/vm/vm.settings`);
    match(text, /^template team$/m);
    match(text, /^vm_cpu_count=7$/m);
    const line = await commandLine(sb, `${sb.work}/vm`);
    match(line, /-machine q35 .* -m 3072M$/);
  } finally {
    await sb.cleanup();
  }
});
