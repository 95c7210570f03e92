import { deepEqual, equal, match } from "node:assert/strict";
import { BUILTIN_MODULES } from "../../modules/registry.ts";
import { vmFiles } from "../home/files.ts";
import { probeHost } from "../host.ts";
import type { BuildcmdContext } from "../modules/api.ts";
import { type BuiltinRegistry, ModuleLoader } from "../modules/loader.ts";
import { parseSettings } from "../settings/file.ts";
import { resolveSettings } from "../settings/resolve.ts";
import { Logger } from "../ui/log.ts";
import { DESCRIBED, moduleArgs } from "./modules.ts";

/** The program's built-ins, with `qemu` made to fail (it must not run) and a built-in `extra` libvirt does not describe. */
const REGISTRY: BuiltinRegistry = {
  ...BUILTIN_MODULES,
  buildcmd: async () => ({
    ...(await BUILTIN_MODULES.buildcmd()),
    qemu: () => {
      throw new Error("a described built-in ran");
    },
    extra: ({ qemu }: BuildcmdContext) => qemu.add("-rtc", "base=utc"),
  }),
};

Deno.test("under libvirt, described built-ins do not run; other built-ins and users' modules do, and a replaced described one is reported", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-libvirt-modules-" });
  try {
    const roots = { share: `${dir}/none`, etc: `${dir}/none`, user: `${dir}/user` };
    Deno.mkdirSync(`${dir}/user/modules/buildcmd`, { recursive: true });
    const user = (name: string, arg: string) =>
      Deno.writeTextFileSync(
        `${dir}/user/modules/buildcmd/${name}.ts`,
        `export default ({ qemu }) => qemu.add(${JSON.stringify(arg)});\n`,
      );
    user("display", "-from-display");
    user("c_mine", "-from-mine");
    const home = `${dir}/vm`;
    Deno.mkdirSync(home);
    const { settings } = resolveSettings({
      roots,
      home,
      file: parseSettings("", `${home}/vm.settings`, "vm"),
      overrides: [["cfg_modules_buildcmd", "qemu display extra name c_mine"]],
    });
    const warnings: string[] = [];
    const log = new Logger("test", 0, {
      out() {},
      err: (text: string) => void warnings.push(text),
      errIsTerminal: false,
      inIsTerminal: false,
    });
    const loader = new ModuleLoader(roots, true, REGISTRY);
    const out = await moduleArgs(settings, vmFiles(home, settings), probeHost(), loader, log);
    deepEqual(out.args, ["-rtc", "base=utc", "-from-mine"]);
    deepEqual(out.transient, []);
    equal(warnings.length, 1, warnings.join(""));
    match(
      warnings[0],
      /modules\/buildcmd\/display\.ts replaces the built-in 'display': not used under libvirt/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every module libvirt describes is a built-in of the program", async () => {
  const builtins = await BUILTIN_MODULES.buildcmd();
  for (const name of DESCRIBED) equal(name in builtins, true, name);
});
