import { deepEqual, equal, throws } from "node:assert/strict";
import { resolveSettings } from "./resolve.ts";
import { describeOrigin } from "./settings.ts";

function sandbox() {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-resolve-" });
  const roots = {
    share: `${dir}/share`,
    etc: `${dir}/etc`,
    user: `${dir}/user`,
  };
  for (const d of Object.values(roots)) {
    Deno.mkdirSync(`${d}/templates`, { recursive: true });
  }
  const write = (path: string, text: string) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, text);
    return path;
  };
  return {
    dir,
    roots,
    write,
    done: () => Deno.removeSync(dir, { recursive: true }),
  };
}

Deno.test("layers apply in order: default, share, system, user, templates, parents, VM, -o", () => {
  const t = sandbox();
  t.write(
    `${t.roots.share}/vmtools.conf`,
    "vm_ram_size=1G\nvm_cpu_count=3\nvm_boot_menu=yes\n",
  );
  t.write(
    `${t.roots.etc}/vmtools.conf`,
    "vm_ram_size=3G\ncfg_include_userhome=yes\n",
  );
  t.write(
    `${t.roots.user}/vmtools.conf`,
    "vm_keyboard_mapping=fr\nvm_cpu_count=5\n",
  );
  t.write(
    `${t.roots.etc}/templates/team.tpl`,
    "template big\nvm_cpu_count=6\n",
  );
  t.write(
    `${t.roots.share}/templates/big.tpl`,
    "vm_ram_size=8G\nvm_boot_order=n\n",
  );
  t.write(
    `${t.dir}/base/vm.settings`,
    "template team\nvm_boot_order=c\nvm_display_type=none\n",
  );
  t.write(
    `${t.dir}/base/child/vm.settings`,
    "parent ..\nvm_display_type=vnc\n",
  );
  const { settings: s, chain } = resolveSettings({
    roots: t.roots,
    home: `${t.dir}/base/child`,
    overrides: [["vm_boot_menu", "no"]],
  });
  deepEqual(chain.map((l) => l.home), [`${t.dir}/base`, `${t.dir}/base/child`]);
  equal(s.get("vm_ram_size"), "8G");
  equal(describeOrigin(s.origin("vm_ram_size")!), "template big");
  equal(s.get("vm_cpu_count"), "6");
  equal(s.get("vm_boot_order"), "c");
  equal(describeOrigin(s.origin("vm_boot_order")!), `parent ${t.dir}/base`);
  equal(s.get("vm_display_type"), "vnc");
  equal(s.origin("vm_display_type")!.layer, "vm");
  equal(s.get("vm_keyboard_mapping"), "fr");
  equal(s.origin("vm_keyboard_mapping")!.layer, "user");
  equal(s.get("vm_boot_menu"), "no");
  equal(s.origin("vm_boot_menu")!.layer, "cmdline");
  equal(s.get("vm_name"), "child");
  equal(s.get("vm_qemu_arch"), "x86_64");
  equal(s.origin("vm_qemu_arch")!.layer, "default");
  t.done();
});

Deno.test("the user's conf is read by default; share or etc can turn it off, -o decides last", () => {
  const t = sandbox();
  t.write(`${t.roots.user}/vmtools.conf`, "vm_ram_size=7G\ncfg_include_userhome=no\n");
  const ram = (overrides: [string, string][] = []) =>
    // A fresh Roots object each time: files are read once per Roots.
    resolveSettings({ roots: { ...t.roots }, overrides }).settings.get("vm_ram_size");
  equal(ram(), "7G", "read by default (REFERENCE §1: the original's default was no)");
  t.write(`${t.roots.share}/vmtools.conf`, "cfg_include_userhome=no\n");
  equal(ram(), "2G", "the shared conf turns it off");
  t.write(`${t.roots.etc}/vmtools.conf`, "cfg_include_userhome=yes\n");
  equal(ram(), "7G", "/etc beats the shared conf");
  t.write(`${t.roots.etc}/vmtools.conf`, "cfg_include_userhome=no\n");
  equal(ram(), "2G", "the administrator turns it off in /etc");
  equal(ram([["cfg_include_userhome", "yes"]]), "7G", "-o turns it back on");
  t.write(`${t.roots.etc}/vmtools.conf`, "\n");
  equal(ram([["cfg_include_userhome", "no"]]), "2G", "-o turns it off");
  t.done();
});

Deno.test("a user template overrides a built-in one of the same name unless userhome is off", () => {
  const t = sandbox();
  t.write(`${t.roots.user}/templates/modern.tpl`, "vm_qemu_machine=pc\n");
  t.write(`${t.dir}/vm/vm.settings`, "template modern\n");
  const on = resolveSettings({ roots: t.roots, home: `${t.dir}/vm` });
  equal(on.settings.get("vm_qemu_machine"), "pc");
  t.write(`${t.roots.etc}/vmtools.conf`, "cfg_include_userhome=no\n");
  const off = resolveSettings({ roots: { ...t.roots }, home: `${t.dir}/vm` });
  equal(off.settings.get("vm_qemu_machine"), "q35");
  t.done();
});

Deno.test("module lists: +name and -name change the inherited list across share, system, user and -o", () => {
  const t = sandbox();
  const share = t.write(`${t.roots.share}/vmtools.conf`, "# shipped\ncfg_modules_buildcmd='+c_rng@ram'\n");
  const etc = t.write(`${t.roots.etc}/vmtools.conf`, "cfg_modules_buildcmd=-keyboard\n");
  const user = t.write(`${t.roots.user}/vmtools.conf`, "cfg_modules_buildcmd='+c_a +c_b -c_rng'\n");
  const s = resolveSettings({
    roots: t.roots,
    overrides: [["cfg_modules_buildcmd", "+c_rng"], ["cfg_modules_clone", "-storage_backend"]],
  }).settings;
  equal(
    s.get("cfg_modules_buildcmd"),
    "qemu boot cpu macos display monitor serial name networking ram storage_cdrom storage_hdd share c_a c_b c_rng",
  );
  equal(
    describeOrigin(s.origin("cfg_modules_buildcmd")!),
    `default + share ${share} + system ${etc} + user ${user} + command line`,
  );
  equal(s.origin("cfg_modules_buildcmd")!.layer, "cmdline");
  equal(s.get("cfg_modules_clone"), "networking_iface_mac");
  equal(describeOrigin(s.origin("cfg_modules_clone")!), "default + command line");
  const placed = resolveSettings({ roots: t.roots, overrides: [["cfg_modules_buildcmd", "+c_a@qemu"]] });
  deepEqual(placed.settings.list("cfg_modules_buildcmd").slice(0, 2), ["c_a", "qemu"], "an added name moves");
  t.done();
});

Deno.test("module lists: a plain list replaces, and what was changed below is gone", () => {
  const t = sandbox();
  t.write(`${t.roots.share}/vmtools.conf`, "cfg_modules_buildcmd=+c_rng\n");
  const etc = t.write(`${t.roots.etc}/vmtools.conf`, "cfg_modules_buildcmd='qemu ram'\n");
  const s = resolveSettings({ roots: t.roots, overrides: [["cfg_modules_buildcmd", "+c_x"]] }).settings;
  equal(s.get("cfg_modules_buildcmd"), "qemu ram c_x");
  equal(describeOrigin(s.origin("cfg_modules_buildcmd")!), `system ${etc} + command line`);
  equal(resolveSettings({ roots: t.roots }).settings.get("cfg_modules_buildcmd"), "qemu ram");
  t.done();
});

Deno.test("module list changes that cannot apply name the file and line, or the option", () => {
  const t = sandbox();
  const etc = t.write(`${t.roots.etc}/vmtools.conf`, "# x\n\ncfg_modules_buildcmd=-c_none\n");
  throws(
    () => resolveSettings({ roots: t.roots }),
    {
      message:
        `${etc}:3: cfg_modules_buildcmd: cannot remove 'c_none': not in the list ('qemu boot cpu macos display keyboard monitor serial name networking ram storage_cdrom storage_hdd share')`,
    },
  );
  t.write(`${t.roots.etc}/vmtools.conf`, "cfg_modules_clone='-storage_backend c_x'\n");
  throws(
    () => resolveSettings({ roots: { ...t.roots } }),
    {
      message:
        `${etc}:1: cfg_modules_clone: 'c_x' is a plain name among +/- changes: give only changes (+name, -name) or the whole list`,
    },
  );
  t.write(`${t.roots.etc}/vmtools.conf`, "\n");
  const roots = { ...t.roots };
  const o = (v: string) => resolveSettings({ roots, overrides: [["cfg_modules_clone", v]] });
  throws(() => o("+../x"), {
    message:
      "setting cfg_modules_clone='+../x' (from command line): '+../x' is not a change: write +NAME, +NAME@BEFORE or -NAME (letters, digits and _)",
  });
  throws(() => o("-a@b"), /'-a@b' is not a change/);
  throws(() => o("+c_x@nope"), {
    message:
      "setting cfg_modules_clone='+c_x@nope' (from command line): cannot add 'c_x' before 'nope': 'nope' is not in the list ('networking_iface_mac storage_backend')",
  });
  throws(
    () => o("-storage_backend -storage_backend"),
    /cannot remove 'storage_backend': not in the list \('networking_iface_mac'\)/,
  );
  equal(o("-networking_iface_mac -storage_backend").settings.get("cfg_modules_clone"), "");
  throws(
    () => resolveSettings({ roots, overrides: [["cfg_modules_clone", ""], ["cfg_modules_clone", "-x"]] }),
    /not in the list \(empty\)/,
  );
  t.done();
});

Deno.test("loops and excessive nesting fail instead of hanging", () => {
  const t = sandbox();
  t.write(`${t.roots.share}/templates/a.tpl`, "template b\n");
  t.write(`${t.roots.share}/templates/b.tpl`, "template a\n");
  t.write(`${t.dir}/t/vm.settings`, "template a\n");
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/t` }),
    /template loop: a -> b -> a/,
  );
  t.write(`${t.dir}/p1/vm.settings`, "parent ../p2\n");
  t.write(`${t.dir}/p2/vm.settings`, "parent ../p1\n");
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/p1` }),
    /parent loop/,
  );
  for (let i = 0; i < 5; i++) {
    t.write(`${t.dir}/n${i}/vm.settings`, i ? `parent ../n${i - 1}\n` : "");
  }
  throws(
    () =>
      resolveSettings({
        roots: t.roots,
        home: `${t.dir}/n4`,
        overrides: [["cfg_limit_nesting", "3"]],
      }),
    /deeper than cfg_limit_nesting=3/,
  );
  t.done();
});

Deno.test("missing parents, templates and homes are named", () => {
  const t = sandbox();
  t.write(`${t.dir}/orphan/vm.settings`, "parent ../gone\n");
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/orphan` }),
    /parent VM '..\/gone' not found/,
  );
  t.write(`${t.dir}/nt/vm.settings`, "template nope\n");
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/nt` }),
    /nt\/vm.settings: unknown template 'nope'/,
  );
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/none` }),
    /not a VM home/,
  );
  t.write(`${t.roots.etc}/vmtools.conf`, "cfg_x=1\nbad line\n");
  // A new Roots object stands for a new command run: files are read anew.
  throws(
    () => resolveSettings({ roots: { ...t.roots } }),
    /etc\/vmtools.conf:2: expected 'name=value'/,
  );
  t.done();
});

Deno.test("exactly cfg_limit_nesting parents are fine, one more is refused", () => {
  const t = sandbox();
  const limit = 4;
  // n0 is the root; n(i) has i ancestors.
  for (let i = 0; i <= limit + 1; i++) {
    t.write(`${t.dir}/n${i}/vm.settings`, i ? `parent ../n${i - 1}\nvm_cpu_count=${i}\n` : "");
  }
  const overrides: [string, string][] = [["cfg_limit_nesting", String(limit)]];
  const ok = resolveSettings({ roots: t.roots, home: `${t.dir}/n${limit}`, overrides });
  equal(ok.chain.length, limit + 1);
  equal(ok.settings.get("vm_cpu_count"), String(limit));
  throws(
    () => resolveSettings({ roots: t.roots, home: `${t.dir}/n${limit + 1}`, overrides }),
    new RegExp(`n${limit + 1}: parent chain deeper than cfg_limit_nesting=${limit}$`),
  );
  t.done();
});

Deno.test("exactly cfg_limit_nesting nested templates are fine, one more is refused", () => {
  const t = sandbox();
  const limit = 4;
  // t1 includes t2 … up to t(limit + 1), which includes nothing.
  for (let i = 1; i <= limit + 1; i++) {
    t.write(`${t.roots.share}/templates/t${i}.tpl`, `template t${i + 1}\nvm_cpu_count=${i}\n`);
  }
  t.write(`${t.roots.share}/templates/t${limit}.tpl`, `vm_cpu_count=${limit}\n`);
  t.write(`${t.dir}/ok/vm.settings`, "template t1\n");
  const overrides: [string, string][] = [["cfg_limit_nesting", String(limit)]];
  const ok = resolveSettings({ roots: t.roots, home: `${t.dir}/ok`, overrides });
  equal(ok.settings.get("vm_cpu_count"), "1");
  t.write(`${t.roots.share}/templates/t${limit}.tpl`, `template t${limit + 1}\n`);
  t.write(`${t.roots.share}/templates/t${limit + 1}.tpl`, "vm_cpu_count=9\n");
  throws(
    () => resolveSettings({ roots: { ...t.roots }, home: `${t.dir}/ok`, overrides }),
    new RegExp(`templates nested deeper than cfg_limit_nesting=${limit} at 't${limit + 1}'$`),
  );
  t.done();
});

Deno.test("conf files, templates and parents that others may write are refused, naming them", () => {
  const t = sandbox();
  const check = (path: string, home?: string) => {
    Deno.chmodSync(path, 0o664);
    throws(
      () => resolveSettings({ roots: { ...t.roots }, home }),
      (e) =>
        e instanceof Error &&
        e.message === `${path}: writable by group or others; run 'chmod go-w ${path}'`,
      path,
    );
    Deno.chmodSync(path, 0o644);
    resolveSettings({ roots: { ...t.roots }, home });
  };
  check(t.write(`${t.roots.etc}/vmtools.conf`, "vm_cpu_count=3\n"));
  t.write(`${t.dir}/base/vm.settings`, "template team\n");
  t.write(`${t.dir}/vm/vm.settings`, "parent ../base\n");
  check(t.write(`${t.roots.share}/templates/team.tpl`, "vm_cpu_count=4\n"), `${t.dir}/vm`);
  check(`${t.dir}/base/vm.settings`, `${t.dir}/vm`);
  check(`${t.dir}/vm/vm.settings`, `${t.dir}/vm`);
  t.done();
});

Deno.test("a template named 500 000 times is read once; names of Object's methods are unknown templates", () => {
  const t = sandbox();
  t.write(`${t.roots.share}/templates/a.tpl`, "vm_cpu_count=7\n");
  t.write(`${t.dir}/vm/vm.settings`, `template${" a".repeat(500_000)} modern\n`);
  const { settings } = resolveSettings({ roots: t.roots, home: `${t.dir}/vm` });
  equal(settings.get("vm_cpu_count"), "7");
  equal(settings.get("vm_qemu_machine"), "q35");
  for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
    t.write(`${t.dir}/vm/vm.settings`, `template ${name}\n`);
    throws(
      () => resolveSettings({ roots: t.roots, home: `${t.dir}/vm` }),
      new RegExp(`unknown template '${name}'$`),
    );
  }
  t.done();
});
