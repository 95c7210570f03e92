/**
 * Bad settings files and -o values give one line naming the culprit.
 */
import { equal, match } from "node:assert/strict";
import { Sandbox } from "../helpers/vmtools.ts";

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
