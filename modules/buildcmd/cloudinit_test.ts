import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { vmFiles } from "../../lib/home/files.ts";
import { ModuleLoader } from "../../lib/modules/loader.ts";
import { buildCommand } from "../../lib/qemu/build.ts";
import { parseSettings } from "../../lib/settings/file.ts";
import { resolveSettings } from "../../lib/settings/resolve.ts";
import { Settings } from "../../lib/settings/settings.ts";
import { Logger } from "../../lib/ui/log.ts";
import { BUILTIN_MODULES } from "../registry.ts";
import { hostname, instanceId, metaData } from "./cloudinit.ts";

/**
 * Builds the command line of the VM `dir/vm` (or of `dir/vm/child`, a fork
 * of it, when `child` is given): `DIR` in the texts stands for `dir`.
 */
async function build(
  dir: string,
  text: string,
  opts: { overrides?: [string, string][]; child?: string } = {},
): Promise<{ args: string[]; warnings: string[] }> {
  const roots = { share: `${dir}/none`, etc: `${dir}/none`, user: `${dir}/none` };
  const write = (home: string, t: string) => {
    Deno.mkdirSync(home, { recursive: true });
    Deno.writeTextFileSync(`${home}/vm.settings`, t.replaceAll("DIR", dir));
  };
  write(`${dir}/vm`, text);
  let home = `${dir}/vm`;
  if (opts.child !== undefined) write(home = `${dir}/vm/child`, `parent ..\n${opts.child}`);
  const file = parseSettings(Deno.readTextFileSync(`${home}/vm.settings`), `${home}/vm.settings`, "vm");
  const { settings } = resolveSettings({ roots, home, file, overrides: opts.overrides });
  const warnings: string[] = [];
  const log = new Logger("test", 2, {
    out() {},
    err: (m) => warnings.push(m),
    errIsTerminal: false,
    inIsTerminal: false,
  });
  const cmd = await buildCommand(
    settings,
    vmFiles(home, settings),
    { graphical: false },
    new ModuleLoader(roots, false, BUILTIN_MODULES),
    log,
  );
  return { args: cmd.args, warnings };
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "vmtools-cloudinit-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** The options that attach the seed. */
function seedArgs(args: string[]): string[] {
  const i = args.findIndex((a) => a.includes("vmtools-cidata"));
  return i < 0 ? [] : args.slice(i - 1);
}

Deno.test(
  "the seed is a CD-ROM of its own: a SATA controller of its own on a PC, q35's last SATA port",
  withDir(async (dir) => {
    Deno.mkdirSync(`${dir}/vm`);
    Deno.writeTextFileSync(`${dir}/vm/user-data`, "#cloud-config\n");
    const cdroms =
      "vm_storage_cdrom1_enable=yes\nvm_storage_cdrom2_enable=yes\nvm_cloudinit_userdata=user-data\n";
    const pc = await build(dir, cdroms);
    const seed = `${dir}/vm/cidata.iso`;
    deepEqual(seedArgs(pc.args), [
      "-device",
      "ahci,id=vmtools-cidata-sata",
      "-drive",
      `if=none,id=vmtools-cidata,format=raw,readonly=on,file=${seed}`,
      "-device",
      "ide-cd,drive=vmtools-cidata,bus=vmtools-cidata-sata.0",
    ]);
    for (const n of [2, 3]) ok(pc.args.includes(`if=ide,index=${n},media=cdrom`));
    const q35 = await build(dir, `template modern\n${cdroms}`);
    deepEqual(seedArgs(q35.args), [
      "-drive",
      `if=none,id=vmtools-cidata,format=raw,readonly=on,file=${seed}`,
      "-device",
      "ide-cd,drive=vmtools-cidata,bus=ide.5",
    ]);
    ok(Deno.statSync(seed).isFile);
    const none = await build(dir, "");
    deepEqual([seedArgs(none.args), none.warnings], [[], []]);
  }),
);

Deno.test(
  "a VM's settings may name only files inside the home of the VM that sets them; -o may name any",
  withDir(async (dir) => {
    Deno.mkdirSync(`${dir}/vm/ci`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/secret`, "host secret\n");
    Deno.writeTextFileSync(`${dir}/vm/ci/user-data`, "#cloud-config\n");
    Deno.symlinkSync(`${dir}/secret`, `${dir}/vm/ci/link`);
    for (const [value, line] of [[`${dir}/secret`, 1], ["../secret", 1], ["ci/link", 2]] as const) {
      await rejects(
        build(dir, `${line === 2 ? "vm_name=x\n" : ""}vm_cloudinit_userdata='${value}'\n`),
        (e: Error) => {
          equal(
            e.message,
            `built-in module cloudinit: vm_cloudinit_userdata='${value}' (${dir}/vm/vm.settings:${line}): ` +
              `a VM's settings may name only files inside its home (${dir}/vm); ` +
              "copy the file there, or give the path with -o or in your vmtools.conf",
          );
          return true;
        },
      );
    }
    ok(seedArgs((await build(dir, "vm_cloudinit_userdata=ci/user-data\n")).args).length > 0);
    ok(
      seedArgs((await build(dir, "", { overrides: [["vm_cloudinit_userdata", `${dir}/secret`]] })).args)
        .length,
    );
    // -o: relative to the home, as storage paths are.
    ok(seedArgs((await build(dir, "", { overrides: [["vm_cloudinit_userdata", "ci/link"]] })).args).length);
    // A fork reads what its parent names in the parent's home; its own settings may not reach up there.
    const child = await build(dir, "vm_cloudinit_userdata=ci/user-data\n", { child: "" });
    ok(seedArgs(child.args).length > 0);
    ok(Deno.statSync(`${dir}/vm/child/cidata.iso`).isFile);
    await rejects(
      build(dir, "", { child: "vm_cloudinit_userdata=../ci/user-data\n" }),
      /\(.*\/vm\/child\/vm\.settings:2\): a VM's settings may name only files inside its home \(.*\/vm\/child\)/,
    );
  }),
);

Deno.test(
  "a missing user-data file, or one that is no file, is one line naming the setting, its origin and the path",
  withDir(async (dir) => {
    Deno.mkdirSync(`${dir}/vm/dir`, { recursive: true });
    await rejects(build(dir, "vm_cloudinit_userdata=nope.yaml\n"), (e: Error) => {
      equal(
        e.message,
        `built-in module cloudinit: vm_cloudinit_userdata='nope.yaml' (${dir}/vm/vm.settings:1): cannot read ${dir}/vm/nope.yaml: no such file`,
      );
      return true;
    });
    await rejects(
      build(dir, "", { overrides: [["vm_cloudinit_userdata", "dir"]] }),
      /vm_cloudinit_userdata='dir' \(command line\): .*\/vm\/dir is not a regular file$/,
    );
    Deno.writeTextFileSync(`${dir}/vm/ud`, "");
    await rejects(
      build(dir, "vm_cloudinit_userdata=ud\nvm_cloudinit_networkconfig=net.yaml\n"),
      /vm_cloudinit_networkconfig='net\.yaml' \(.*:2\): cannot read .*\/vm\/net\.yaml: no such file/,
    );
    const { warnings } = await build(dir, "vm_cloudinit_metadata=ud\n");
    deepEqual(warnings, [
      "test: warning: vm_cloudinit_metadata is ignored: vm_cloudinit_userdata is not set\n",
    ]);
  }),
);

Deno.test("meta-data: instance-id and local-hostname added unless the given file has them", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  equal(metaData(undefined, "iid-1", "web"), 'instance-id: "iid-1"\nlocal-hostname: "web"\n');
  equal(
    metaData(enc("public-keys:\n  - ssh-ed25519 AAAA"), "iid-1", "web"),
    'public-keys:\n  - ssh-ed25519 AAAA\ninstance-id: "iid-1"\nlocal-hostname: "web"\n',
  );
  equal(
    metaData(enc("instance-id: mine\n'local-hostname' : box\n"), "iid-1", "web"),
    "instance-id: mine\n'local-hostname' : box\n",
  );
  // An indented key belongs to something else.
  match(metaData(enc("x:\n  instance-id: no\n"), "iid-1", "web"), /\ninstance-id: "iid-1"\n/);
  equal(
    metaData(enc('{"local-hostname": "box"}'), "iid-1", "web"),
    '{\n  "local-hostname": "box",\n  "instance-id": "iid-1"\n}\n',
  );
});

Deno.test("host names and instance-ids made from a VM", () => {
  equal(hostname("John's VM"), "john-s-vm");
  equal(hostname("fóò"), "f");
  equal(hostname("--"), "vm");
  equal(hostname("a".repeat(70)).length, 63);
  const settings = (entries: Record<string, string>) =>
    new Settings(Object.entries(entries).map(([k, v]) => [k, { value: v, origin: { layer: "vm" } }]));
  equal(instanceId(settings({ vm_name: "web", vm_cloudinit_instanceid: "iid-mine" })), "iid-mine");
  equal(
    instanceId(settings({
      vm_name: "web",
      vm_networking_iface1_mac: "52:54:00:00:00:01",
      vm_networking_iface2_enable: "yes",
      vm_networking_iface2_mac: "52:54:00:AB:CD:EF",
      vm_networking_iface10_enable: "yes",
      vm_networking_iface10_mac: "52:54:00:00:00:10",
    })),
    "iid-525400abcdef",
  );
  equal(
    instanceId(
      settings({
        vm_name: "My Web",
        vm_networking_iface1_enable: "yes",
        vm_networking_iface1_mac: "52:54:00",
      }),
    ),
    "iid-my-web",
  );
});
