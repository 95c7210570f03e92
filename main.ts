/**
 * Entry point: one program, thirteen commands. Run as `vmup`, `vmdown`, …
 * (links to one executable) it runs that command; run as `vmtools` it takes
 * the command from its first argument (`vmtools up` works too), prints a
 * shell completion script (`vmtools completions bash`), or takes its own
 * options (`vmtools --install-links DIR`).
 * @module
 */
import { type Command, processIO, runCommand } from "./lib/cli/command.ts";
import { basename } from "./lib/path.ts";
import { processOutput } from "./lib/ui/log.ts";

type Loader = () => Promise<{ default: Command }>;

/** Every command by name, loaded only when it runs. */
const COMMANDS: Record<string, Loader> = {
  vmup: () => import("./commands/vmup.ts"),
  vmcreate: () => import("./commands/vmcreate.ts"),
  vmdown: () => import("./commands/vmdown.ts"),
  vmps: () => import("./commands/vmps.ts"),
  vminfo: () => import("./commands/vminfo.ts"),
  vmcp: () => import("./commands/vmcp.ts"),
  vmfork: () => import("./commands/vmfork.ts"),
  vmmerge: () => import("./commands/vmmerge.ts"),
  vmmv: () => import("./commands/vmmv.ts"),
  vmrm: () => import("./commands/vmrm.ts"),
  vmfix: () => import("./commands/vmfix.ts"),
  vmmon: () => import("./commands/vmmon.ts"),
  vmrndmac: () => import("./commands/vmrndmac.ts"),
};

/** The program's own options (`vmtools --install-links DIR`), loaded only when given. */
async function loadOwn(): Promise<Command> {
  return (await import("./commands/vmtools.ts")).default(Object.keys(COMMANDS));
}

/** The name this program was invoked by. */
async function invokedAs(): Promise<string> {
  const fromLauncher = Deno.env.get("VMTOOLS_ARGV0");
  if (fromLauncher) return basename(fromLauncher);
  if (basename(Deno.execPath()) === "deno") return "vmtools";
  // A compiled binary reached through a link: only Node's process.argv0 keeps
  // the link's name, and loading it costs time, so it is the last resort.
  const { default: process } = await import("node:process");
  return basename(process.argv0);
}

function usage(): string {
  const names = Object.keys(COMMANDS);
  return `Usage: vmtools COMMAND [ARGS...]   (or run a command by its name: vmup ...)
       vmtools completions bash|zsh|fish
       vmtools --install-links DIR [--force]

Commands: ${names.join(" ")}
Run 'vmtools COMMAND -h' for a command's options; see vmtools(7).
'vmtools completions SHELL' prints the completion script for that shell
(scripts/install installs all three).
'vmtools --install-links DIR' makes the command names links in DIR to this
executable (--force replaces other files of those names).
`;
}

const COMPLETIONS_USAGE = "Usage: vmtools completions bash|zsh|fish\n";

/** `vmtools completions SHELL`: the script, written from every command's declaration. */
async function completions(args: string[]): Promise<number> {
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) {
    processOutput.out(COMPLETIONS_USAGE);
    return 0;
  }
  const { SHELLS, completionScript } = await import("./lib/cli/completions.ts");
  if (args.length !== 1 || !SHELLS.includes(args[0])) {
    const why = args.length ? `unknown shell '${args.join(" ")}'` : "which shell?";
    processOutput.err(`vmtools: completions: ${why}\n${COMPLETIONS_USAGE}`);
    return 2;
  }
  const specs = (await Promise.all(Object.values(COMMANDS).map((load) => load()))).map((m) => m.default);
  processOutput.out(completionScript(args[0], specs, await loadOwn()));
  return 0;
}

async function main(): Promise<number> {
  let name = await invokedAs();
  let argv = Deno.args;
  if (!(name in COMMANDS)) {
    const sub = argv[0];
    if (sub === undefined || sub === "-h" || sub === "--help") {
      (sub ? processOutput.out : processOutput.err)(usage());
      return sub ? 0 : 2;
    }
    if (sub === "completions") return await completions(argv.slice(1));
    if (sub.startsWith("-")) return await runCommand(await loadOwn(), argv, processIO("vmtools"));
    name = sub in COMMANDS ? sub : `vm${sub}`;
    argv = argv.slice(1);
    if (!(name in COMMANDS)) {
      processOutput.err(`vmtools: unknown command '${sub}'\n${usage()}`);
      return 2;
    }
  }
  const { default: command } = await COMMANDS[name]();
  return await runCommand(command, argv, processIO(name));
}

Deno.exit(await main());
