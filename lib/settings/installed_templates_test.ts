import { deepEqual, equal, match } from "node:assert/strict";
import { firstComment, installedTemplates } from "./installed_templates.ts";

function roots() {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-templates-" });
  const r = { share: `${dir}/share`, etc: `${dir}/etc`, user: `${dir}/user` };
  const write = (root: string, name: string, text: string) => {
    Deno.mkdirSync(`${root}/templates`, { recursive: true });
    Deno.writeTextFileSync(`${root}/templates/${name}`, text, { mode: 0o644 });
    Deno.chmodSync(`${root}/templates/${name}`, 0o644);
  };
  return { dir, r, write };
}

Deno.test("installed templates: built-ins and the roots' files, the highest root winning by name", () => {
  const { dir, r, write } = roots();
  try {
    write(r.share, "web.tpl", "# Web server, shared.\nvm_cpu_count=1\n");
    write(r.etc, "web.tpl", "\n# Web server, site.\nvm_cpu_count=2\n");
    write(r.etc, "modern.tpl", "vm_qemu_machine=q35\n");
    write(r.user, "mine.tpl", "# Mine.\n");
    write(r.share, "not a template.tpl", "# bad name\n");
    write(r.share, "notes.txt", "# not a template\n");
    const warnings: string[] = [];
    const list = installedTemplates(r, false, (m) => warnings.push(m));
    deepEqual(list, [
      {
        name: "legacy",
        description: "An older PC for old systems: i440fx chipset, IDE disks, e1000, Cirrus VGA.",
      },
      { name: "macos", description: "Apple macOS guests. Set vm_macos_osk to the Apple SMC key." },
      { name: "modern", description: "" },
      { name: "web", description: "Web server, site." },
    ]);
    deepEqual(warnings, []);
    const withUser = installedTemplates(r, true, () => {});
    deepEqual(withUser.map((t) => t.name), ["legacy", "macos", "mine", "modern", "web"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a template file others may write is not offered, and the user is told", () => {
  const { dir, r, write } = roots();
  try {
    write(r.etc, "shared.tpl", "# Shared.\n");
    Deno.chmodSync(`${r.etc}/templates/shared.tpl`, 0o666);
    const warnings: string[] = [];
    const names = installedTemplates(r, false, (m) => warnings.push(m)).map((t) => t.name);
    equal(names.includes("shared"), false);
    equal(warnings.length, 1);
    match(warnings[0], /shared\.tpl: writable by group or others.*not offered as a template/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a description is the first comment line, without its hashes", () => {
  equal(firstComment("vm_a=1\n##  Two hashes \n# second\n"), "Two hashes");
  equal(firstComment("vm_a=1\n"), "");
});
