/**
 * Modules from the three configuration roots replace built-ins per file,
 * with the user's (unless turned off) over /etc over /usr/local/share; a
 * broken module is named in one clear message; module lists take +name and
 * -name changes; the type import path the READMEs show works, since
 * `import type` is never looked up at run time. The clone module
 * storage_backend shares a folder or a block device disk in snapshot mode
 * where it is (a device: root only).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HEADLESS_TCG, PROJECT_ROOT, Sandbox, VMTOOLS_COMMAND } from "../helpers/vmtools.ts";

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
    match(await commandLine(sb, disk), / -m 333M /, "the user's root is read by default");
    sb.write("etc/vmtools.conf", "cfg_include_userhome=no\n");
    match(await commandLine(sb, disk), / -m 222M /, "unless the administrator turns it off");
    match(await commandLine(sb, disk, "-o", "cfg_include_userhome=yes"), / -m 333M /);
    sb.write("etc/vmtools.conf", "");
    sb.write("share/vmtools.conf", "cfg_include_userhome=no\n");
    match(await commandLine(sb, disk), / -m 222M /, "or ships it off in /usr/local/share");
    sb.write("home/.config/vmtools/vmtools.conf", "cfg_include_userhome=yes\n");
    match(await commandLine(sb, disk), / -m 222M /, "which the user's own file cannot undo");
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

/** The fenced blocks of a README, in order, with the language after the fence. */
function fencedBlocks(path: string): { lang: string; text: string }[] {
  const blocks: { lang: string; text: string }[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const m of Deno.readTextFileSync(path).matchAll(re)) blocks.push({ lang: m[1], text: m[2] });
  return blocks;
}

/** The worked example of modules/buildcmd/README.md: the module and the vmtools.conf line. */
function readmeExample(): { module: string; conf: string; importLine: string } {
  const blocks = fencedBlocks(`${PROJECT_ROOT}/modules/buildcmd/README.md`);
  const module = blocks.findLast((b) => b.lang === "ts" && b.text.includes("export default"))!.text;
  const conf = blocks.findLast((b) => b.lang === "" && b.text.includes("cfg_modules_buildcmd"))!.text;
  const importLine = blocks.find((b) => b.lang === "ts" && b.text.startsWith("import type"))!.text.trim();
  return { module, conf, importLine };
}

Deno.test("the README's worked example runs as shown: +c_rng in /etc, the documented type import, declared reads", async () => {
  const sb = new Sandbox();
  try {
    const { module, conf, importLine } = readmeExample();
    equal(importLine, `import type { BuildcmdContext } from "/usr/local/lib/vmtools/lib/modules/api.ts";`);
    ok(module.startsWith(importLine), "the example uses the import line the README prescribes");
    for (const readme of ["configure", "clone"]) {
      const text = Deno.readTextFileSync(`${PROJECT_ROOT}/modules/${readme}/README.md`);
      ok(text.includes(`from "/usr/local/lib/vmtools/lib/modules/api.ts"`), `${readme} README: same path`);
    }
    ok(
      Deno.readTextFileSync(`${PROJECT_ROOT}/lib/modules/api.ts`).includes(importLine),
      "api.ts shows the same path",
    );
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    sb.write("etc/modules/buildcmd/c_rng.ts", module);
    sb.write("etc/vmtools.conf", conf);
    const r = await sb.run("vmup", "-n", "-vvv", ...HEADLESS_TCG, "-o", "vm_rng_source=/dev/random", disk);
    equal(r.code, 0, r.stderr);
    const line = /would run (.*)$/m.exec(r.stderr)![1];
    match(line, / -object rng-random,id=rng0,filename=\/dev\/random -device virtio-rng-pci,rng=rng0$/);
    match(line, / -k | -vga std /, "the built-ins stay in the list");
    ok(!r.stderr.includes("warning"), `the module declares vm_rng_source: ${r.stderr}`);
    const off = await commandLine(sb, disk, "-o", "cfg_modules_buildcmd=-c_rng");
    ok(!off.includes("virtio-rng"), "-o removes it again");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("type-only imports are never resolved at run time; import { type } is, and fails where the file is missing", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const specifiers = [
      "/usr/local/lib/vmtools/lib/modules/api.ts",
      "/nonexistent/api.ts",
      "./api.ts",
      "vmtools/modules",
      "npm:vmtools-no-such-package@1",
      "jsr:@vmtools/api",
      "https://example.invalid/api.ts",
    ];
    const list: string[] = [];
    specifiers.forEach((spec, i) => {
      list.push(`+c_t${i}`);
      sb.write(
        `etc/modules/buildcmd/c_t${i}.ts`,
        `import type { BuildcmdContext } from ${JSON.stringify(spec)};
export default function t({ qemu }: BuildcmdContext) { qemu.add("-x-t${i}"); }\n`,
      );
    });
    const line = await commandLine(sb, disk, "-o", `cfg_modules_buildcmd=${list.join(" ")}`);
    deepEqual(line.match(/-x-t\d/g), specifiers.map((_, i) => `-x-t${i}`));
    const kept = sb.write(
      "etc/modules/buildcmd/c_kept.ts",
      `import { type BuildcmdContext } from "/nonexistent/api.ts";
export default function t({ qemu }: BuildcmdContext) { qemu.add("-x"); }\n`,
    );
    const r = await sb.run("vmup", "-n", ...HEADLESS_TCG, "-o", "cfg_modules_buildcmd=+c_kept", disk);
    equal(r.code, 1);
    match(
      r.stderr,
      new RegExp(`^vmup: module ${kept} failed to load: Module not found .*nonexistent/api\\.ts`),
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("the README's example type-checks against lib/modules/api.ts, and a wrong member does not", async () => {
  const sb = new Sandbox();
  try {
    const { module } = readmeExample();
    // Map the installed path to this tree's file, as an editor pointed at an install would see it.
    const config = sb.write(
      "work/deno.json",
      JSON.stringify({
        imports: { "/usr/local/lib/vmtools/lib/modules/api.ts": `${PROJECT_ROOT}/lib/modules/api.ts` },
      }),
    );
    const check = async (text: string) => {
      const file = sb.write("work/c_rng.ts", text);
      const out = await new Deno.Command(VMTOOLS_COMMAND[0], {
        args: ["check", "-q", "--config", config, file],
        cwd: sb.work,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const good = await check(module);
    equal(good.code, 0, good.stderr);
    const bad = await check(module.replace("qemu.add(", "qemu.append("));
    equal(bad.code, 1);
    match(bad.stderr, /Property 'append' does not exist on type 'QemuCommand'/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("module lists compose +name and -name across share, /etc, the user and -o; vminfo -sl shows every layer", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const mark = (n: string) => `export default function m({ qemu }) { qemu.add("-x-${n}"); }\n`;
    for (const n of ["c_a", "c_b", "c_c"]) sb.write(`share/modules/buildcmd/${n}.ts`, mark(n));
    const share = sb.write("share/vmtools.conf", "cfg_modules_buildcmd='+c_a +c_b'\n");
    const etc = sb.write("etc/vmtools.conf", "cfg_modules_buildcmd='-keyboard +c_c@qemu'\n");
    const user = sb.write("home/.config/vmtools/vmtools.conf", "cfg_modules_buildcmd=-c_a\n");
    const line = await commandLine(sb, disk, "-o", "cfg_modules_buildcmd=+c_a@c_b");
    match(
      line,
      /^qemu-system-x86_64 -x-c_c -accel tcg /,
      "+c_c@qemu runs before qemu, which still names the program",
    );
    match(line, / -x-c_a -x-c_b$/);
    ok(!line.includes(" -k "), "keyboard removed");
    sb.write("work/vm/vm.settings", "vm_ram_size=1G\n");
    const info = await sb.run("vminfo", "-sl", "-o", "cfg_modules_buildcmd=+c_a@c_b", "vm");
    equal(info.code, 0, info.stderr);
    const row = info.stdout.split("\n").find((l) => l.startsWith("cfg_modules_buildcmd="))!;
    equal(
      row.replace(/ {2,}/, "  "),
      `cfg_modules_buildcmd='c_c qemu firmware boot cpu macos display monitor serial name networking ram storage_cdrom storage_hdd share cloudinit c_a c_b'  # default + share ${share} + system ${etc} + user ${user} + command line`,
    );
    sb.write("etc/vmtools.conf", "cfg_modules_buildcmd='qemu ram'\n");
    Deno.removeSync(user);
    const plain = await commandLine(sb, disk);
    match(plain, / -m 2048M$/, "a plain list replaces the changes below it");
    ok(!/ -x-c_| -vga /.test(plain), plain);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("module list changes that cannot apply are one line naming the file and line, or -o", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "x" });
    const etc = sb.write("etc/vmtools.conf", "# mine\ncfg_modules_buildcmd='-keyboard -keyboard'\n");
    let r = await sb.run("vmup", "-n", ...HEADLESS_TCG, disk);
    equal(r.code, 1);
    equal(
      r.stderr,
      `vmup: ${etc}:2: cfg_modules_buildcmd: cannot remove 'keyboard': not in the list ('qemu firmware boot cpu macos display monitor serial name networking ram storage_cdrom storage_hdd share cloudinit')\n`,
    );
    sb.write("etc/vmtools.conf", "");
    r = await sb.run("vmup", "-n", ...HEADLESS_TCG, "-o", "cfg_modules_buildcmd=+c_x ram", disk);
    equal(r.code, 1);
    equal(
      r.stderr,
      "vmup: setting cfg_modules_buildcmd='+c_x ram' (from command line): 'ram' is a plain name among +/- changes: give only changes (+name, -name) or the whole list\n",
    );
    r = await sb.run("vmup", "-n", ...HEADLESS_TCG, "-o", "cfg_modules_clone=+c_x@nope", disk);
    equal(r.code, 1);
    match(
      r.stderr,
      /^vmup: setting cfg_modules_clone='\+c_x@nope' \(from command line\): cannot add 'c_x' before 'nope'/,
    );
    equal(r.stderr.split("\n").length, 2, "one line");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("clone module storage_backend: a folder given as a disk, relative to the source's home, is shared in snapshot mode where it is", async () => {
  const sb = new Sandbox();
  try {
    const home = `${sb.work}/vm`;
    sb.write(`${home}/data/readme.txt`, "a folder as a FAT disk\n");
    sb.write(`${home}/vm.settings`, "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=rw:data\n");
    for (const [cmd, dest] of [["vmfork", `${home}/child`], ["vmcp", `${sb.work}/copy`]]) {
      const r = await sb.run(cmd, home, dest);
      equal(r.code, 0, r.stderr);
      match(
        Deno.readTextFileSync(`${dest}/vm.settings`),
        new RegExp(`^vm_storage_hdd1_backend='snap:${home}/data'$`, "m"),
      );
      const up = await sb.run("vmup", "-n", ...HEADLESS_TCG, dest);
      equal(up.code, 0, up.stderr);
      match(up.stdout, new RegExp(`file=fat:${home}/data,`));
    }
  } finally {
    await sb.cleanup();
  }
});

/** Loop devices need root, and a kernel (or container) that offers them. */
const canLoop = Deno.uid() === 0 &&
  new Deno.Command("losetup", { args: ["-f"], stdout: "null", stderr: "null" }).outputSync().success;

Deno.test({
  name:
    "clone module storage_backend: a disk that is a block device is shared in snapshot mode by vmfork and vmcp",
  ignore: !canLoop,
  fn: async () => {
    const sb = new Sandbox();
    const losetup = (...args: string[]) =>
      new TextDecoder().decode(new Deno.Command("losetup", { args, stdout: "piped" }).outputSync().stdout)
        .trim();
    const dev = losetup("-f", "--show", sb.write("work/disk.raw", "\0".repeat(2 ** 20)));
    try {
      const home = `${sb.work}/vm`;
      sb.write(`${home}/vm.settings`, `vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=${dev}\n`);
      for (const [cmd, dest] of [["vmfork", `${home}/child`], ["vmcp", `${sb.work}/copy`]]) {
        const r = await sb.run(cmd, home, dest);
        equal(r.code, 0, r.stderr);
        match(r.stderr, new RegExp(`hdd1 \\(${dev}\\) is not an image: the new VM uses it in snapshot mode`));
        match(
          Deno.readTextFileSync(`${dest}/vm.settings`),
          new RegExp(`^vm_storage_hdd1_backend='snap:${dev}'$`, "m"),
        );
        deepEqual([...Deno.readDirSync(dest)].map((e) => e.name), ["vm.settings"], cmd);
      }
    } finally {
      losetup("-d", dev);
      await sb.cleanup();
    }
  },
});
