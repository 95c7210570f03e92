/**
 * Bad settings files and -o values give one line naming the culprit: files
 * that are not regular files, too large, writable by others, or built to
 * make a parser slow fail at once; sizes read the same from everywhere; a
 * misspelled name is a warning with the nearest known one.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type RunResult, Sandbox } from "../helpers/vmtools.ts";

/**
 * Runs a command, killing it after `limitMs` so that a regression (a read
 * that blocks or never ends) fails the test instead of hanging the suite.
 */
async function runBounded(
  sb: Sandbox,
  limitMs: number,
  command: string,
  ...args: string[]
): Promise<RunResult> {
  const child = sb.spawn({}, command, ...args);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone already */ }
      reject(new Error(`${command} ${args.join(" ").slice(0, 200)}: still running after ${limitMs} ms`));
    }, limitMs);
  });
  try {
    const out = await Promise.race([child.output(), expired]);
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts a failure with exactly one line, `PROG: message`, and no internal error. */
function failsWith(r: RunResult, prog: string, message: string): void {
  equal(r.code, 1, r.stderr.slice(0, 500));
  ok(!r.stderr.includes("internal error"), r.stderr.slice(0, 500));
  equal(r.stderr, `${prog}: ${message}\n`);
}

const MiB = 1024 * 1024;

Deno.test("a malformed settings file is reported as file:line with exit 1", async () => {
  const sb = new Sandbox();
  try {
    const path = sb.write(
      "work/vm/vm.settings",
      "# ok\nvm_ram_size=2G\nvm_name = x\n",
    );
    let r = await sb.run("vmup", "vm");
    equal(r.code, 1);
    equal(r.stderr, `vmup: ${path}:3: no spaces allowed around '='\n`);
    sb.write("work/vm/vm.settings", "cfg_limit_nesting=5\n");
    r = await sb.run("vmup", "-n", "vm");
    equal(
      r.stderr,
      `vmup: ${path}:1: tool setting 'cfg_limit_nesting' is only allowed in vmtools.conf or with -o\n`,
    );
    const conf = sb.write("etc/vmtools.conf", "vm_name='unterminated\n");
    r = await sb.run("vmrndmac");
    equal(r.code, 0, "vmrndmac reads no settings file");
    r = await sb.run("vmcreate", "-y", "-n", "other");
    equal(r.code, 1);
    equal(r.stderr, `vmcreate: ${conf}:1: unterminated quote (column 9)\n`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("template loops and bad -o values fail cleanly", async () => {
  const sb = new Sandbox();
  try {
    sb.write("share/templates/a.tpl", "template b\n");
    sb.write("share/templates/b.tpl", "template a\n");
    sb.write("work/vm/vm.settings", "template a\n");
    let r = await sb.run("vmup", "-n", "vm");
    equal(r.code, 1);
    equal(r.stderr, "vmup: template loop: a -> b -> a\n");
    r = await sb.run("vmup", "-n", "-o", "ram=2G", "vm");
    equal(r.code, 2);
    match(
      r.stderr,
      /^vmup: -o 'ram=2G': expected cfg_NAME=value or vm_NAME=value$/m,
    );
    r = await sb.run(
      "vmup",
      "-n",
      "-o",
      "vm_storage_hdd1_backend=rw:/x:y",
      "-o",
      "vm_storage_hdd1_enable=yes",
      "--",
      "vm",
    );
    equal(r.code, 1);
    match(r.stderr, /template loop/, "-o values with ':' need no quoting");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("settings files that are not regular files fail at once, naming the file", async () => {
  const sb = new Sandbox();
  try {
    const fifo = (path: string) => {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      new Deno.Command("mkfifo", { args: [path] }).outputSync();
      return path;
    };
    const cases: [string, string, string][] = [];
    cases.push([`${sb.work}/f1`, fifo(`${sb.work}/f1/vm.settings`), "a VM's settings file that is a FIFO"]);
    Deno.mkdirSync(`${sb.work}/z1`);
    Deno.symlinkSync("/dev/zero", `${sb.work}/z1/vm.settings`);
    cases.push([`${sb.work}/z1`, `${sb.work}/z1/vm.settings`, "a link to /dev/zero"]);
    sb.write("work/p1/vm.settings", "parent ../pp\n");
    cases.push([`${sb.work}/p1`, fifo(`${sb.work}/pp/vm.settings`), "a parent's settings file"]);
    sb.write("work/t1/vm.settings", "template pipe\n");
    cases.push([`${sb.work}/t1`, fifo(`${sb.dir}/share/templates/pipe.tpl`), "a template"]);
    for (const [home, path, what] of cases) {
      for (const [prog, ...args] of [["vminfo"], ["vmup", "-n"]]) {
        // A /dev/zero read grew by about 0.5 GB a second: kill it sooner.
        const r = await runBounded(sb, what.includes("zero") ? 10_000 : 20_000, prog, ...args, home);
        failsWith(r, prog, `${path}: not a regular file`);
      }
    }
    const conf = fifo(`${sb.dir}/etc/vmtools.conf`);
    sb.write("work/plain/vm.settings", "");
    failsWith(await runBounded(sb, 20_000, "vminfo", "plain"), "vminfo", `${conf}: not a regular file`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a settings file of exactly 1 MiB is read, one byte more is refused", async () => {
  const sb = new Sandbox();
  try {
    const head = "vm_cpu_count=3\n# ";
    const path = sb.write("work/vm/vm.settings", head + "x".repeat(MiB - head.length - 1) + "\n");
    equal(Deno.statSync(path).size, MiB);
    let r = await runBounded(sb, 20_000, "vmup", "-n", "-vvv", "vm");
    equal(r.code, 0, r.stderr);
    match(r.stderr, / -smp 3 /);
    Deno.writeTextFileSync(path, "\n", { append: true });
    r = await runBounded(sb, 20_000, "vmup", "-n", "vm");
    failsWith(r, "vmup", `${path}: larger than 1 MiB (1048577 bytes)`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("1 MiB lines built to be slow parse quickly: long blanks, lists, quotes, paths", async () => {
  const sb = new Sandbox();
  try {
    sb.write("share/templates/a.tpl", "vm_cpu_count=3\n");
    sb.write("share/templates/x.tpl", "vm_boot_menu=yes\n");
    // Each file fills about 1 MiB with one line.
    const fill = (head: string, unit: string, tail: string) =>
      head + unit.repeat(Math.floor((MiB - 200 - head.length - tail.length) / unit.length)) + tail + "\n";
    const good: [string, string, RegExp][] = [
      ["blanks", fill("template a", " ", "x"), / -boot order=cd,menu=on -smp 3 /],
      ["list", fill("template", " a", " x"), / -smp 3 /],
      ["tabs", fill("template a", "\t \t", "# x"), / -smp 3 /],
      ["params", fill("vm_qemu_params='", "-x ", "'"), / -accel tcg -x -x -x /],
      ["quotes", fill("vm_name=", "'a'\\''b'", ""), / -name 'a'\\''ba'\\''b/],
    ];
    for (const [name, text, expected] of good) {
      sb.write(`work/${name}/vm.settings`, text);
      const r = await runBounded(sb, 20_000, "vmup", "-n", "-vvv", name);
      equal(r.code, 0, `${name}: ${r.stderr.slice(0, 300)}`);
      match(r.stderr, expected, name);
    }
    const text = fill("parent ", "a/", "a");
    const parent = sb.write("work/parent/vm.settings", text);
    failsWith(
      await runBounded(sb, 20_000, "vminfo", "parent"),
      "vminfo",
      `${parent}:1: parent path too long (${text.length - "parent \n".length} bytes, at most 4095)`,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("settings and module files others may write are refused with the fix; a link to a good file is fine", async () => {
  const sb = new Sandbox();
  try {
    const own = sb.write("work/vm/vm.settings", "vm_cpu_count=3\n");
    Deno.chmodSync(own, 0o664);
    failsWith(
      await sb.run("vmup", "-n", "vm"),
      "vmup",
      `${own}: writable by group or others; run 'chmod go-w ${own}'`,
    );
    Deno.chmodSync(own, 0o644);
    const conf = sb.write("etc/vmtools.conf", "vm_boot_menu=yes\n");
    Deno.chmodSync(conf, 0o646);
    failsWith(
      await sb.run("vminfo", "vm"),
      "vminfo",
      `${conf}: writable by group or others; run 'chmod go-w ${conf}'`,
    );
    Deno.chmodSync(conf, 0o644);
    const module = sb.write(
      "etc/modules/buildcmd/c_extra.ts",
      `export default ({ qemu }) => qemu.add("-no-reboot");\n`,
    );
    Deno.chmodSync(module, 0o664);
    const list = ["-o", "cfg_modules_buildcmd=qemu ram c_extra"];
    failsWith(
      await sb.run("vmup", "-n", ...list, "vm"),
      "vmup",
      `${module}: writable by group or others; run 'chmod go-w ${module}'`,
    );
    Deno.chmodSync(module, 0o644);
    let r = await sb.run("vmup", "-n", "-vvv", ...list, "vm");
    equal(r.code, 0, r.stderr);
    match(r.stderr, / -no-reboot$/m);
    // A link to a regular file only its owner writes is fine.
    Deno.mkdirSync(`${sb.work}/linked`);
    Deno.symlinkSync(own, `${sb.work}/linked/vm.settings`);
    r = await sb.run("vmup", "-n", "-vvv", "linked");
    equal(r.code, 0, r.stderr);
    match(r.stderr, / -smp 3 /);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("under umask 000, vmcreate writes a vm.settings that only its owner may write", async () => {
  const sb = new Sandbox();
  try {
    const child = sb.spawn(
      { wrapper: ["sh", "-c", 'umask 000 && exec "$@"', "sh"] },
      "vmcreate",
      "-y",
      "-n",
      "-o",
      "vm_storage_hdd1_createsize=0",
      "vm",
    );
    const out = await child.output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    equal((Deno.statSync(`${sb.work}/vm/vm.settings`).mode! & 0o777).toString(8), "644");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("NUL even quoted and CR-only line ends are refused with file:line; CR LF is fine", async () => {
  const sb = new Sandbox();
  try {
    const path = sb.write("work/vm/vm.settings", "vm_cpu_count=3\nvm_name='a\0b'\n");
    failsWith(
      await sb.run("vminfo", "vm"),
      "vminfo",
      `${path}:2: NUL at column 11: not allowed in settings files, not even quoted`,
    );
    sb.write("work/vm/vm.settings", "# made on a Mac\rvm_cpu_count=3\r");
    failsWith(
      await sb.run("vmup", "-n", "vm"),
      "vmup",
      `${path}:1: carriage return without line feed: settings files use LF (or CR LF) line ends`,
    );
    sb.write("work/vm/vm.settings", "# made on Windows\r\nvm_cpu_count=3\r\n");
    const r = await sb.run("vmup", "-n", "-vvv", "vm");
    equal(r.code, 0, r.stderr);
    match(r.stderr, / -smp 3 /);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a VM with exactly cfg_limit_nesting ancestors starts, one more is refused", async () => {
  const sb = new Sandbox();
  try {
    for (let i = 0; i <= 4; i++) {
      sb.write(`work/n${i}/vm.settings`, i ? `parent ../n${i - 1}\n` : "vm_cpu_count=3\n");
    }
    const limit = ["-o", "cfg_limit_nesting=3"];
    const r = await sb.run("vmup", "-n", "-vvv", ...limit, "n3");
    equal(r.code, 0, r.stderr);
    match(r.stderr, / -smp 3 /);
    failsWith(
      await sb.run("vmup", "-n", ...limit, "n4"),
      "vmup",
      `${sb.work}/n4: parent chain deeper than cfg_limit_nesting=3`,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("sizes read alike from -o, files and questions: a plain number is MiB, RAM under 16M is refused", async () => {
  const sb = new Sandbox();
  try {
    sb.write("work/vm/vm.settings", "");
    for (const [value, m] of [["256", "256M"], ["1024", "1024M"], ["1.5g", "1536M"], ["64MiB", "64M"]]) {
      const r = await sb.run("vmup", "-n", "-vvv", "-o", `vm_ram_size=${value}`, "vm");
      equal(r.code, 0, r.stderr);
      match(r.stderr, new RegExp(` -m ${m}$`, "m"), value);
    }
    failsWith(
      await sb.run("vmup", "-n", "-o", "vm_ram_size=2048k", "vm"),
      "vmup",
      "setting vm_ram_size='2048k' (from command line): too small to boot anything (at least 16M)",
    );
    sb.write("work/vm/vm.settings", "vm_ram_size=8M\n");
    failsWith(
      await sb.run("vmup", "-n", "vm"),
      "vmup",
      `${sb.work}/vm/vm.settings:1: setting vm_ram_size='8M': too small to boot anything (at least 16M)`,
    );
    failsWith(
      await sb.run("vmcreate", "-y", "-n", "-o", "vm_ram_size=1024k", "new1"),
      "vmcreate",
      // vmcreate stores -o values in the new VM: that is where it comes from (and what is undone).
      `${sb.work}/new1/vm.settings:2: setting vm_ram_size='1024k': too small to boot anything (at least 16M)`,
    );
    const asked = await sb.runWith({ stdin: "2\n2048k\n" }, "vmcreate", "-n", "new2");
    equal(asked.code, 1);
    equal(
      asked.stderr,
      "Number of virtual CPUs [2]: Memory size [2G]: " +
        "vmcreate: answer '2048k' to 'Memory size': expected at least 16M (less is too small to boot anything)\n",
    );
    // The question accepts what -o accepts; qemu-img gets a unit.
    const r = await sb.runWith({ stdin: "2\n256\nno\n64\n" }, "vmcreate", "-n", "new3");
    equal(r.code, 0, r.stderr);
    match(Deno.readTextFileSync(`${sb.work}/new3/vm.settings`), /^vm_ram_size=256$/m);
    const info = await new Deno.Command("qemu-img", {
      args: ["info", "--output=json", `${sb.work}/new3/hdd.qcow2`],
      stdout: "piped",
    }).output();
    equal(JSON.parse(new TextDecoder().decode(info.stdout))["virtual-size"], 64 * MiB);
    const up = await sb.run("vmup", "-n", "-vvv", "new3");
    equal(up.code, 0, up.stderr);
    match(up.stderr, / -m 256M /);
  } finally {
    await sb.cleanup();
  }
});

/** The `warning:` lines of a command's stderr. */
function warnings(r: RunResult): string[] {
  return r.stderr.split("\n").filter((l) => l.includes("warning:"));
}

Deno.test("a misspelled setting warns once, with the nearest known name and where it was written", async () => {
  const sb = new Sandbox();
  try {
    sb.write("work/vm/vm.settings", "vm_ram_size=1G\n");
    const clean = await sb.run("vmup", "-n", "-o", "vm_custom_tag=x", "-o", "cfg_custom_y=1", "vm");
    equal(clean.code, 0, clean.stderr);
    equal(clean.stderr, "", "known names, and names reserved for users, never warn");

    let r = await sb.run("vmup", "-n", "-o", "vm_ram_sise=1G", "-o", "vm_ram_sise=2G", "vm");
    equal(r.code, 0, r.stderr);
    equal(
      r.stderr,
      "vmup: warning: unknown setting vm_ram_sise (from command line; did you mean vm_ram_size?)\n",
    );

    const conf = sb.write("etc/vmtools.conf", "# site\nvm_cpu_cuont=3\ncfg_ui_verbosty=2\n");
    const tpl = sb.write("share/templates/team.tpl", "vm_dispaly_type=none\n");
    const vm = sb.write(
      "work/vm/vm.settings",
      [
        "template team",
        "vm_storage_hdd1_enabel=no",
        "vm_storage_hdd9_enable=no",
        "vm_storage_cdrom3_backend=",
        "vm_networking_iface12_mode=user",
        "vm_qwertyuiop=1",
        "",
      ].join("\n"),
    );
    sb.write("work/vm2/vm.settings", "vm_qwertyuiop=2\nvm_cpu_cuont=1\n");
    r = await sb.run("vmup", "-n", "-o", "vm_cpu_cuont=4", "vm", "vm2");
    equal(r.code, 0, r.stderr);
    equal(
      warnings(r).sort().join("\n"),
      [
        `vmup: warning: ${conf}:3: unknown setting cfg_ui_verbosty (did you mean cfg_ui_verbosity?)`,
        `vmup: warning: ${tpl}:1: unknown setting vm_dispaly_type (did you mean vm_display_type?)`,
        `vmup: warning: ${vm}:2: unknown setting vm_storage_hdd1_enabel (did you mean vm_storage_hdd1_enable?)`,
        `vmup: warning: ${vm}:6: unknown setting vm_qwertyuiop (no known setting is close; names of your own start with vm_custom_)`,
        "vmup: warning: unknown setting vm_cpu_cuont (from command line; did you mean vm_cpu_count?)",
      ].sort().join("\n"),
      "once per name for both VMs; numbered families take any N",
    );
    r = await sb.run("vmup", "-n", "-q", "-q", "-q", "vm");
    equal(warnings(r).length, 0, "-q silences warnings with everything else");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmcreate warns about a misspelled -o before storing it, and still stores it", async () => {
  const sb = new Sandbox();
  try {
    const r = await sb.run(
      "vmcreate",
      "-y",
      "-n",
      "-o",
      "vm_ram_sise=1G",
      "-o",
      "vm_storage_hdd1_createsize=0",
      "vm",
    );
    equal(r.code, 0, r.stderr);
    deepEqual(warnings(r), [
      "vmcreate: warning: unknown setting vm_ram_sise (from command line; did you mean vm_ram_size?)",
    ]);
    match(
      Deno.readTextFileSync(`${sb.work}/vm/vm.settings`),
      /^vm_ram_sise=1G$/m,
      "custom names are allowed",
    );
    const up = await sb.run("vmup", "-n", "vm");
    match(
      up.stderr,
      /vmup: warning: .*\/vm\/vm\.settings:\d+: unknown setting vm_ram_sise \(did you mean vm_ram_size\?\)/,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("names a listed module declares in `reads` are known, in any family; a bad declaration is an error", async () => {
  const sb = new Sandbox();
  try {
    sb.write(
      "etc/modules/buildcmd/c_rng.ts",
      `export const reads = ["vm_rng_*"];\nexport default function rng() {}\n`,
    );
    sb.write(
      "home/.config/vmtools/modules/configure/settings/c_team.ts",
      `export const reads = ["vm_team_code", "cfg_team_server"];\nexport default function team() {}\n`,
    );
    sb.write(
      "share/modules/buildcmd/c_unlisted.ts",
      `export const reads = ["vm_other"];\nexport default () => {};\n`,
    );
    sb.write("etc/vmtools.conf", "cfg_modules_buildcmd=+c_rng\ncfg_team_server=x\n");
    sb.write("home/.config/vmtools/vmtools.conf", "cfg_modules_configure_settings=+c_team\n");
    const vm = sb.write("work/vm/vm.settings", "vm_rng_source=/dev/random\nvm_team_code=web\nvm_other=1\n");
    const r = await sb.run("vmup", "-n", "vm");
    equal(r.code, 0, r.stderr);
    equal(
      r.stderr,
      `vmup: warning: ${vm}:3: unknown setting vm_other (no known setting is close; names of your own start with vm_custom_)\n`,
      "vmup runs no configure module on a VM home, yet c_team's names count; c_unlisted's do not",
    );
    const bad = sb.write(
      "etc/modules/buildcmd/c_rng.ts",
      `export const reads = "vm_rng_source";\nexport default () => {};\n`,
    );
    failsWith(
      await sb.run("vmup", "-n", "vm"),
      "vmup",
      `module ${bad}: 'reads' must be a list of setting names (vm_… or cfg_…, or a prefix ending in *)`,
    );
  } finally {
    await sb.cleanup();
  }
});
