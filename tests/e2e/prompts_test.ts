/**
 * vmcreate's questions in a real terminal (tmux: keys in, screen out):
 * numbers and sizes refused as typed, yes/no, lists picked with the arrow
 * keys; Ctrl-D aborts and Ctrl-C exits 130, both leaving nothing behind.
 * The same questions piped, and under -y. The optional modules
 * `templates/prompt` and `settings/keyboard_mapping` are switched on here.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { Terminal } from "../helpers/terminal.ts";
import { Sandbox } from "../helpers/vmtools.ts";
import { exists } from "../../lib/fs.ts";

const KEYMAPS = "/usr/share/qemu/keymaps";

/** The settings lines of a file, comments dropped. */
function settingsLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l && !l.startsWith("#"));
}

/** Sorted layouts of QEMU's keymaps directory, as the keyboard_mapping module lists them. */
function layouts(): string[] {
  return [...Deno.readDirSync(KEYMAPS)]
    .filter((e) => e.isFile && /^[a-z][a-z0-9_-]*$/.test(e.name) && !["common", "modifiers"].includes(e.name))
    .map((e) => e.name)
    .sort();
}

/** Both optional modules on, and a template of the site's. */
function withOptionalModules(sb: Sandbox, conf = ""): void {
  sb.write(
    "etc/vmtools.conf",
    "cfg_modules_configure_templates='autodetect prompt'\n" +
      "cfg_modules_configure_settings='cpu_count ram_size keyboard_mapping networking_auto " +
      "storage_hdd_import storage_hdd1_createsize'\n" + conf,
  );
  sb.write("share/templates/web.tpl", "# A small web server.\nvm_cpu_count=1\n");
}

Deno.test("at a terminal: keys answer every kind of question; wrong numbers and sizes are refused as typed", async () => {
  const sb = new Sandbox();
  withOptionalModules(sb);
  const t = await Terminal.start(sb, "vmcreate", "-n", "vm");
  try {
    // Templates: a list of several, with descriptions; the cursor starts on the first.
    let screen = await t.waitFor(/Templates to apply[\s\S]*web +A small web server\./);
    match(screen, /legacy +An older PC/);
    await t.keys("Down", "Down", "Down", "Space");
    await t.waitFor(/◉ web/);
    await t.keys("Enter");
    // The template chosen moves the proposal: web says 1 CPU.
    await t.waitFor(/\? Number of virtual CPUs \(1\)/);
    await t.type("0");
    await t.keys("Enter");
    await t.waitFor(/expected a whole number of at least 1/);
    await t.keys("BSpace");
    await t.type("3");
    await t.keys("Enter");
    await t.waitFor(/✔ Number of virtual CPUs 3[\s\S]*\? Memory size \(2G\)/);
    await t.type("5x");
    await t.keys("Enter");
    await t.waitFor(/expected a size such as 512M or 2G/);
    await t.keys("BSpace", "BSpace");
    await t.type("768m");
    await t.keys("Enter");
    // A list of one: arrow keys to the layout wanted ((none) comes first).
    screen = await t.waitFor(/\? Keyboard layout[\s\S]*❯ \(none\)/);
    match(screen, /de +German/);
    const downs = layouts().indexOf("de") + 1;
    await t.keys(...Array(downs).fill("Down"));
    await t.waitFor(/❯ de /);
    await t.keys("Enter");
    await t.waitFor(/✔ Keyboard layout de\n[\s\S]*\? Enable network interface 1 \(Y\/n\)/);
    await t.type("n");
    await t.keys("Enter");
    await t.waitFor(
      /✔ Enable network interface 1 No[\s\S]*\? Size of a new blank disk \(0 for none\) \(40G\)/,
    );
    await t.type("0");
    await t.keys("Enter");
    equal(await t.exitCode(), 0, await t.screen());
    deepEqual(settingsLines(`${sb.work}/vm/vm.settings`), [
      "template web",
      "vm_cpu_count=3",
      "vm_ram_size=768M",
      "vm_keyboard_mapping=de",
    ]);
    equal(Deno.readTextFileSync(t.stdout), "", "questions go to stderr, never stdout");
  } finally {
    await t.close();
    await sb.cleanup();
  }
});

Deno.test("at a terminal, Ctrl-D aborts the creation: nothing is left, not even the parents", async () => {
  const sb = new Sandbox();
  const t = await Terminal.start(sb, "vmcreate", "-n", "a/b/vm");
  try {
    await t.waitFor(/\? Number of virtual CPUs \(2\)/);
    await t.type("3");
    await t.keys("Enter");
    await t.waitFor(/\? Memory size \(2G\)/);
    await t.keys("C-d");
    equal(await t.exitCode(), 1);
    match(await t.screen(), /vmcreate: aborted at 'Memory size' \(end of input\)/);
    equal(exists(`${sb.work}/a`), false);
  } finally {
    await t.close();
    await sb.cleanup();
  }
});

Deno.test("at a terminal, Ctrl-C exits 130 and removes the home and the parents vmcreate made", async () => {
  const sb = new Sandbox();
  withOptionalModules(sb);
  const t = await Terminal.start(sb, "vmcreate", "-n", "a/b/vm");
  try {
    await t.waitFor(/Templates to apply/);
    await t.keys("Enter");
    await t.waitFor(/\? Number of virtual CPUs/);
    await t.keys("Enter");
    await t.waitFor(/\? Memory size/);
    await t.keys("Enter");
    await t.waitFor(/\? Keyboard layout/);
    equal(exists(`${sb.work}/a/b/vm`), true, "the home exists while asking");
    await t.keys("C-c");
    equal(await t.exitCode(), 130);
    match(await t.screen(), /interrupted: reverted: vmcreate /);
    equal(exists(`${sb.work}/a`), false);
  } finally {
    await t.close();
    await sb.cleanup();
  }
});

Deno.test("piped: choices by value or number, the end of input takes the proposals, a wrong choice names the question", async () => {
  const sb = new Sandbox();
  withOptionalModules(sb, "vm_keyboard_mapping=fr\n");
  try {
    const maps = layouts();
    const r = await sb.runWith({ stdin: `web\n\n1g\nde\nno\n0\n` }, "vmcreate", "-n", "vm1");
    equal(r.code, 0, r.stderr);
    match(
      r.stderr,
      /Templates to apply \[none\]: Number of virtual CPUs \[1\]: Memory size \[2G\]: Keyboard layout \[fr\]: /,
    );
    deepEqual(settingsLines(`${sb.work}/vm1/vm.settings`), [
      "template web",
      "vm_ram_size=1G",
      "vm_keyboard_mapping=de",
    ]);
    // By number (from 1, "(none)" first), and the end of input taking the rest.
    const legacy = 1; // legacy, macos, modern, web
    const r2 = await sb.runWith(
      { stdin: `${legacy} 4\n4\n\n${maps.indexOf("en-gb") + 2}\n` },
      "vmcreate",
      "-n",
      "vm2",
    );
    equal(r2.code, 0, r2.stderr);
    const lines = settingsLines(`${sb.work}/vm2/vm.settings`);
    for (
      const line of [
        "template legacy",
        "template web",
        "vm_cpu_count=4",
        "vm_keyboard_mapping=en-gb",
        "vm_networking_iface1_enable=yes",
        "vm_storage_hdd1_backend=hdd.qcow2",
      ]
    ) {
      equal(lines.includes(line), true, `${line} in:\n${lines.join("\n")}`);
    }
    equal(
      lines.some((l) => l.startsWith("vm_ram_size=")),
      false,
      "the proposal (legacy's 512M) is inherited",
    );
    // A layout that does not exist.
    const bad = await sb.runWith({ stdin: "\n\n\nxx\n" }, "vmcreate", "-n", "vm3");
    equal(bad.code, 1);
    match(bad.stderr, /vmcreate: answer 'xx' to 'Keyboard layout': expected one of 1 for \(none\), /);
    equal(exists(`${sb.work}/vm3`), false);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("-y applies no template and keeps the inherited keyboard layout", async () => {
  const sb = new Sandbox();
  withOptionalModules(sb, "vm_keyboard_mapping=fr\n");
  try {
    const r = await sb.run("vmcreate", "-y", "-n", "-o", "vm_storage_hdd1_createsize=0", "vm");
    equal(r.code, 0, r.stderr);
    const lines = settingsLines(`${sb.work}/vm/vm.settings`);
    equal(lines.some((l) => /^template|keyboard/.test(l)), false, lines.join("\n"));
  } finally {
    await sb.cleanup();
  }
});
