/**
 * `vminfo`: what a VM is, whether it runs, its settings and its storage.
 * @module
 */
import { type Command, parseOverrides, verbosityOf } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { formatIdentity, gatherIdentity } from "../lib/info/identity.ts";
import { formatSettings, selectSettings } from "../lib/info/settings.ts";
import { formatStorage, gatherStorage } from "../lib/info/storage.ts";
import { resolve } from "../lib/path.ts";
import { configRoots } from "../lib/roots.ts";
import { resolveSettings } from "../lib/settings/resolve.ts";
import { Logger } from "../lib/ui/log.ts";
import { VmHome } from "../lib/home/home.ts";
import { familyTree } from "../lib/home/tree.ts";
import { formatTree, treeJson } from "../lib/info/tree.ts";
import type { Settings } from "../lib/settings/settings.ts";
import { vmFiles } from "../lib/home/files.ts";
import { listRunningVms } from "../lib/running/running.ts";
import { isVmHome } from "../lib/home/home.ts";
import { realPathOr } from "../lib/fs.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** `vminfo` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vminfo",
  summary: "show a VM's state, settings and storage",
  synopsis: ["[vmhome]"],
  description: `Describe the VM in vmhome (default: the current directory). Parts, by flag;
with none of -i -s -t -b, all but the tree (-isb):`,
  options: [
    {
      short: "i",
      help: "name, RUNNING or not running, pid",
      more: `long: home, parent, children, display, sockets, owner,
CPU, memory, disk use`,
    },
    {
      short: "s",
      help: "settings given by the VM, its templates and its parents",
      more: "long: every setting, each with where its value comes from",
    },
    {
      short: "b",
      help: "enabled disks, CD-ROMs and shared folders: backend, type, access",
      more: "long: image details and the whole chain of backing files",
    },
    { short: "t", help: "the fork tree: * this VM, R running ones; long: their homes" },
    { short: "l", help: "long form of every part shown" },
    { short: "a", help: "draw the tree with ASCII (for -t)" },
    { long: "json", help: "one JSON object with a key per part (info, settings, storage)" },
    {
      long: "libvirt",
      help: "instead: the libvirt domain XML of what vmup would run",
      more: "(what vmup --libvirt creates; alone, or with -o)",
    },
    {
      short: "o",
      value: "k=v",
      repeats: true,
      complete: "setting",
      help: "see the VM as if setting k had value v (repeatable)",
    },
    { short: "y", help: "assume yes (nothing to ask here)" },
    ...COMMON_OPTIONS,
  ],
  operands: "vmhome",
  notes: `The text is one name=value line per fact, quoted like settings files; the
settings part can be pasted into a settings file.`,
  examples: [
    ["vminfo ~/vms/deb", "state, own settings and disks"],
    ["vminfo -sl ~/vms/deb | grep ram_size", "where the RAM size comes from"],
    ["vminfo -bl ~/vms/base/web1", "a fork's disk down to its base image"],
    ["vminfo -i --json ~/vms/deb", "identity for a script"],
    ["vminfo --libvirt ~/vms/deb > deb.xml", "the VM as a libvirt domain"],
  ],
  async exec(args, io) {
    if (args.operands.length > 1) throw new UsageError("one VM home at most");
    const c = args.count;
    const long = Boolean(c.l);
    const asked = ["i", "s", "b", "t"].filter((k) => c[k]);
    const parts = asked.length ? asked : ["i", "s", "b"];

    const overrides = parseOverrides(args.values.o);
    const roots = configRoots(io.env);
    const path = args.operands[0] ?? ".";
    const home = resolve(path, io.cwd);
    let resolved: ReturnType<typeof resolveSettings>;
    try {
      resolved = resolveSettings({ roots, home, overrides });
    } catch (e) {
      // Only now is the tool's own view needed, for the settings file name.
      const name = resolveSettings({ roots, overrides }).settings.get(
        "cfg_file_vmsettings",
      );
      if (!isVmHome(home, name)) {
        throw new VmError(`${path}: not a VM home (no ${name})`);
      }
      throw e;
    }
    const { settings, chain } = resolved;
    const log = new Logger(
      io.prog,
      verbosityOf(settings.int("cfg_ui_verbosity"), args),
      io.output,
    );
    log.debug(`${home}: ${chain.length} VM(s) in the parent chain`);
    if (c.libvirt) {
      if (asked.length || c.l || c.a || c.json) throw new UsageError("--libvirt prints the domain XML alone");
      const { domainXml } = await import("../lib/libvirt/domain.ts");
      io.output.out(await domainXml(home, settings, { roots, builtins: BUILTIN_MODULES, log }));
      return 0;
    }

    const [identity, storage] = await Promise.all([
      parts.includes("i") ? gatherIdentity(home, settings, chain, long) : undefined,
      parts.includes("b") ? gatherStorage(home, settings, long) : undefined,
    ]);
    const selected = parts.includes("s") ? selectSettings(settings, long) : undefined;
    const tree = parts.includes("t") ? await gatherTree(home, settings) : undefined;

    if (c.json) {
      const report: Record<string, unknown> = {};
      if (identity) report.info = identity;
      if (selected) {
        report.settings = Object.fromEntries(
          selected.map((s) => [s.name, { value: s.value, origin: s.origin }]),
        );
      }
      if (storage) report.storage = storage;
      if (tree) report.tree = treeJson(tree.root, tree.running);
      io.output.out(JSON.stringify(report, null, 2) + "\n");
      return 0;
    }
    const text: string[] = [];
    if (identity) text.push(formatIdentity(identity, long));
    if (selected) text.push(formatSettings(selected, long));
    if (storage) text.push(formatStorage(storage));
    if (tree) {
      const drawing = formatTree(tree.root, { ascii: Boolean(c.a), long, running: tree.running });
      text.push(parts.length > 1 ? `# tree\n${drawing}` : drawing);
    }
    io.output.out(text.join(""));
    return 0;
  },
};

/** The fork tree of the VM at `home`, and which of its VMs run (one `ps` run for all). */
async function gatherTree(home: string, settings: Settings) {
  const root = familyTree(new VmHome(home, settings), settings.int("cfg_limit_nesting"));
  const vms = await listRunningVms({
    prefix: settings.get("cfg_qemu_cmdprefix"),
    files: (dir) => vmFiles(dir, settings),
  });
  const live = new Set(vms.filter((v) => v.home && !v.bare).map((v) => realPathOr(v.home)));
  return { root, running: (h: string) => live.has(realPathOr(h)) };
}

export default command;
