/**
 * vminfo on real VM homes: a running VM (state, pid, display, JSON), a
 * child whose settings come from a template, its parent, the VM itself and
 * the command line (each origin shown by `-s -l`), a qcow2 overlay's
 * backing chain (`-b -l`), and the errors.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { parseSettings } from "../../lib/settings/file.ts";
import { readOr, Sandbox, SMALL_VM } from "../helpers/vmtools.ts";

/** The `key=value` line for `key` in vminfo's text, comment included. */
function line(text: string, key: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(`${key}=`));
}

Deno.test("vminfo: a running VM, in text and JSON", async () => {
  const sb = new Sandbox();
  const home = `${sb.work}/vm`;
  try {
    await makeBootSectorDisk(`${sb.work}/boot.img`, { message: "hello" });
    const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "boot.img", "vm");
    equal(c.code, 0, c.stderr);

    const idle = await sb.run("vminfo", "-i", "vm");
    equal(idle.code, 0, idle.stderr);
    equal(idle.stdout, "# info\nname=vm\nstate='not running'\n");

    const up = await sb.run("vmup", "vm");
    equal(up.code, 0, up.stderr);
    const pid = readOr(`${home}/qemu.pid`).trim();
    ok(pid, "no pid file");

    const short = await sb.run("vminfo", "-i", "vm");
    equal(short.code, 0, short.stderr);
    equal(short.stdout, `# info\nname=vm\nstate=RUNNING\npid=${pid}\n`);

    const long = await sb.run("vminfo", "-il", "vm");
    equal(long.code, 0, long.stderr);
    match(long.stdout, /^run_state=running$/m);
    match(line(long.stdout, "display") ?? "", /^display='vnc:\/\/127\.0\.0\.1:59\d\d'$/);
    equal(line(long.stdout, "monitor"), `monitor=${home}/monitor.sock`);
    equal(line(long.stdout, "children"), "children=0");
    match(line(long.stdout, "parent") ?? "", /^parent=''\s+# none$/);
    match(long.stdout, /^memory=\d/m);
    match(long.stdout, /^disk_use=\d/m);
    match(long.stdout, /^owner=/m);

    // Default parts: info, settings, storage.
    const all = await sb.run("vminfo", "vm");
    equal(all.code, 0, all.stderr);
    match(all.stdout, /^# info\n[^]*^# settings\n[^]*^# storage\n/m);
    equal(line(all.stdout, "vm_ram_size"), "vm_ram_size=32M");
    match(line(all.stdout, "hdd1") ?? "", /^hdd1=\S+boot\.img\s+# raw image$/);

    const json = await sb.run("vminfo", "--json", "-l", "vm");
    equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    deepEqual(Object.keys(report), ["info", "settings", "storage"]);
    equal(report.info.running, true);
    equal(report.info.pid, Number(pid));
    equal(report.info.state, "RUNNING");
    equal(report.settings.vm_ram_size.value, "32M");
    equal(report.settings.vm_ram_size.origin, "vm");
    equal(report.settings.vm_boot_menu.origin, "default");
    equal(report.storage[0].device, "hdd1");
    equal(report.storage[0].format, "raw");
    equal(report.storage[0].chain[0].format, "raw");

    const onlyInfo = JSON.parse((await sb.run("vminfo", "-i", "--json", "vm")).stdout);
    deepEqual(Object.keys(onlyInfo), ["info"]);
  } finally {
    const pid = Number(readOr(`${home}/qemu.pid`).trim());
    if (pid) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await sb.cleanup();
  }
});

Deno.test("vminfo: origins of settings and a qcow2 backing chain", async () => {
  const sb = new Sandbox();
  try {
    sb.write("share/templates/small.tpl", "vm_ram_size=64M\nvm_cpu_count=3\n");
    sb.write(
      "work/base/vm.settings",
      "vm_name=base\nvm_cpu_count=1\nvm_boot_menu=yes\n" +
        "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=base.qcow2\n",
    );
    sb.write("work/base/childs.lst", "../child\n");
    await makeBootSectorDisk(`${sb.work}/base/base.qcow2`, {
      message: "base",
      format: "qcow2",
    });
    sb.write(
      "work/child/vm.settings",
      "parent ../base\ntemplate small\nvm_name='the child'\n" +
        "vm_storage_hdd1_backend=over.qcow2\n",
    );
    const img = await new Deno.Command("qemu-img", {
      args: ["create", "-q", "-f", "qcow2", "-b", "../base/base.qcow2", "-F", "qcow2", "over.qcow2"],
      cwd: `${sb.work}/child`,
      stderr: "piped",
    }).output();
    equal(img.code, 0, new TextDecoder().decode(img.stderr));

    const s = await sb.run("vminfo", "-s", "-o", "vm_display_type=none", "child");
    equal(s.code, 0, s.stderr);
    const base = `${sb.work}/base`;
    // Only what the chain and -o give, as settings text.
    equal(
      s.stdout,
      [
        "# settings",
        "vm_boot_menu=yes",
        "vm_cpu_count=3",
        "vm_display_type=none",
        "vm_name='the child'",
        "vm_ram_size=64M",
        "vm_storage_hdd1_backend=over.qcow2",
        "vm_storage_hdd1_enable=yes",
        "",
      ].join("\n"),
    );
    parseSettings(s.stdout, "(vminfo -s)", "vm");

    const l = await sb.run("vminfo", "-sl", "-o", "vm_display_type=none", "child");
    equal(l.code, 0, l.stderr);
    match(line(l.stdout, "vm_ram_size") ?? "", /# template small$/);
    match(line(l.stdout, "vm_cpu_count") ?? "", /# template small$/);
    match(line(l.stdout, "vm_boot_menu") ?? "", new RegExp(`# parent ${base}$`));
    match(line(l.stdout, "vm_name") ?? "", /^vm_name='the child'\s+# vm$/);
    match(line(l.stdout, "vm_display_type") ?? "", /# command line$/);
    match(line(l.stdout, "vm_qemu_arch") ?? "", /# default$/);
    match(line(l.stdout, "cfg_ui_verbosity") ?? "", /# default$/);
    parseSettings(
      l.stdout.split("\n").filter((x) => !x.startsWith("cfg_")).join("\n"),
      "(vminfo -sl)",
      "vm",
    );

    const b = await sb.run("vminfo", "-bl", "child");
    equal(b.code, 0, b.stderr);
    match(line(b.stdout, "hdd1") ?? "", /^hdd1=over\.qcow2\s+# qcow2 image$/);
    equal(line(b.stdout, "hdd1_format"), "hdd1_format=qcow2");
    equal(line(b.stdout, "hdd1_virtual_size"), "hdd1_virtual_size=1M");
    equal(
      line(b.stdout, "hdd1_backing1")?.replace(/\s+#/, " #"),
      `hdd1_backing1=${base}/base.qcow2 # stored as ../base/base.qcow2`,
    );
    equal(line(b.stdout, "hdd1_backing1_format"), "hdd1_backing1_format=qcow2");
    equal(line(b.stdout, "hdd1_backing2"), undefined);
    const short = await sb.run("vminfo", "-b", "child");
    equal(
      short.stdout,
      "# storage\nhdd1=over.qcow2  # qcow2 image\nhdd1_location=" +
        `${sb.work}/child/over.qcow2\nhdd1_access=rw\n`,
    );

    const family = await sb.run("vminfo", "-il", "child");
    equal(line(family.stdout, "parent"), `parent=${base}`);
    const parent = await sb.run("vminfo", "-il", "base");
    equal(line(parent.stdout, "children"), "children=1");
    equal(line(parent.stdout, "name"), "name=base");

    const json = JSON.parse((await sb.run("vminfo", "--json", "-sb", "-l", "child")).stdout);
    equal(json.settings.vm_ram_size.origin, "template small");
    equal(json.storage[0].chain.length, 2);
    equal(json.storage[0].chain[1].filename, `${base}/base.qcow2`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vminfo: errors, and the tree of a VM without family", async () => {
  const sb = new Sandbox();
  try {
    const none = await sb.run("vminfo", ".");
    equal(none.code, 1);
    match(none.stderr, /^vminfo: \.: not a VM home \(no vm\.settings\)$/m);
    const missing = await sb.run("vminfo", "nowhere");
    equal(missing.code, 1);
    match(missing.stderr, /nowhere: not a VM home/);

    sb.write(
      "work/vm/vm.settings",
      "vm_name=x\nvm_storage_hdd2_enable=yes\nvm_storage_hdd2_backend=gone.img\n",
    );
    const tree = await sb.run("vminfo", "-t", "vm");
    equal(tree.code, 0, tree.stderr);
    equal(tree.stdout, "x *\n");
    const withTree = await sb.run("vminfo", "-ti", "vm");
    equal(withTree.code, 0, withTree.stderr);
    equal(withTree.stdout, "# info\nname=x\nstate='not running'\n# tree\nx *\n");

    const gone = await sb.run("vminfo", "-b", "vm");
    equal(gone.code, 0, gone.stderr);
    match(gone.stdout, /^hdd2=gone\.img\s+# missing$/m);
    match(gone.stdout, /^hdd2_error='gone\.img: no such file or directory'$/m);

    sb.write("work/bad/vm.settings", "vm_name=x y\n");
    const bad = await sb.run("vminfo", "bad");
    equal(bad.code, 1);
    match(bad.stderr, /vm\.settings:1:/);

    const usage = await sb.run("vminfo", "-x");
    equal(usage.code, 2);
    const badO = await sb.run("vminfo", "-o", "ram=1", "vm");
    equal(badO.code, 2);
    const help = await sb.run("vminfo", "-h");
    match(help.stdout, /^Usage: vminfo/);
  } finally {
    await sb.cleanup();
  }
});
