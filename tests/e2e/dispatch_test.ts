/**
 * One program, thirteen names: dispatch by the invoked name or by
 * `vmtools COMMAND`, help everywhere, and clear refusals.
 */
import { equal, match } from "node:assert/strict";
import { COMMAND_NAMES, Sandbox } from "../helpers/vmtools.ts";

Deno.test("every command name answers -h", async () => {
  const sb = new Sandbox();
  try {
    for (const name of COMMAND_NAMES) {
      const r = await sb.run(name, "-h");
      equal(r.code, 0, `${name}: ${r.stderr}`);
      match(r.stdout, new RegExp(`^Usage: ${name} `), name);
      match(r.stdout, /Example/, `${name} -h shows examples`);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmtools COMMAND and vmtools SHORTNAME dispatch; unknown commands exit 2", async () => {
  const sb = new Sandbox();
  try {
    match((await sb.run("vmtools", "vmrndmac", "02:")).stdout, /^02(:[0-9a-f]{2}){5}\n$/);
    match((await sb.run("vmtools", "rndmac")).stdout, /^52:54:00/);
    match((await sb.run("vmtools", "up", "-h")).stdout, /^Usage: vmup /);
    const none = await sb.run("vmtools");
    equal(none.code, 2);
    match(none.stderr, /^Usage: vmtools COMMAND/);
    for (const r of [none, await sb.run("vmtools", "-h")]) {
      const text = r.stdout + r.stderr;
      match(
        text,
        /^Commands: vmup vmcreate vmdown vmps vminfo vmcp vmfork vmmerge vmmv vmrm vmfix vmmon vmrndmac$/m,
      );
      equal(/Not available yet/.test(text), false);
      match(text, /^ +vmtools completions bash\|zsh\|fish$/m);
    }
    const unknown = await sb.run("vmtools", "frobnicate");
    equal(unknown.code, 2);
    match(unknown.stderr, /^vmtools: unknown command 'frobnicate'/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup without a path needs the current directory to be a VM home", async () => {
  const sb = new Sandbox();
  try {
    const r = await sb.run("vmup");
    equal(r.code, 2);
    match(r.stderr, /^vmup: the current directory is not a VM home/);
    const bad = await sb.run("vmrndmac", "52:5");
    equal(bad.code, 2);
    match(bad.stderr, /'52:5': expected up to six colon-separated hex pairs/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("options: glued values, -q -v -h everywhere, the nearest long option suggested", async () => {
  const sb = new Sandbox();
  try {
    Deno.writeFileSync(`${sb.work}/d.img`, new Uint8Array(1 << 20));
    const glued = await sb.run(
      "vmup",
      "-n",
      "-vvv",
      "-ovm_ram_size=64M",
      "-ovm_display_type=none",
      "-ovm_qemu_accel=tcg",
      "d.img",
    );
    equal(glued.code, 0, glued.stderr);
    match(glued.stdout + glued.stderr, / -m 64M /);

    for (const name of COMMAND_NAMES) {
      const r = await sb.run(name, "-q", "-v", "-h");
      equal(r.code, 0, `${name}: ${r.stderr}`);
      match(r.stdout, new RegExp(`^Usage: ${name} `));
    }
    const quiet = await sb.run("vmrndmac", "-q");
    equal(quiet.code, 0, quiet.stderr);
    match(quiet.stdout, /^52:54:00(:[0-9a-f]{2}){3}\n$/);

    const long = await sb.run("vmps", "--jsn");
    equal(long.code, 2);
    equal(long.stderr, "vmps: unknown option '--jsn' (did you mean --json?)\nTry 'vmps -h' for help.\n");
    const help = await sb.run("vmup", "--hepl");
    equal(help.code, 2);
    match(help.stderr, /^vmup: unknown option '--hepl' \(did you mean --help\?\)\n/);
    const short = await sb.run("vmup", "-x");
    equal(short.code, 2);
    equal(short.stderr, "vmup: unknown option '-x'\nTry 'vmup -h' for help.\n");
  } finally {
    await sb.cleanup();
  }
});
