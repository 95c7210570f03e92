/**
 * Entry point: one program, thirteen commands. Run as `vmup`, `vmdown`, …
 * (links to one executable) it runs that command; run as `vmtools` it takes
 * the command from its first argument (`vmtools up` works too).
 * @module
 */
import { type Command, runCommand } from "./lib/cli/command.ts";
import { basename } from "./lib/path.ts";
import { processOutput } from "./lib/ui/log.ts";

type Loader = () => Promise<{ default: Command }>;

/** Every command by name; `undefined` for those not built yet. */
const COMMANDS: Record<string, Loader | undefined> = {
  vmup: () => import("./commands/vmup.ts"),
  vmcreate: () => import("./commands/vmcreate.ts"),
  vmdown: () => import("./commands/vmdown.ts"),
  vmps: () => import("./commands/vmps.ts"),
  vminfo: () => import("./commands/vminfo.ts"),
  vmcp: undefined,
  vmfork: undefined,
  vmmerge: undefined,
  vmmv: undefined,
  vmrm: undefined,
  vmfix: undefined,
  vmmon: () => import("./commands/vmmon.ts"),
  vmrndmac: () => import("./commands/vmrndmac.ts"),
};

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
  return `Usage: vmtools COMMAND [ARGS...]   (or run a command by its name: vmup ...)

Commands: ${Object.keys(COMMANDS).join(" ")}
Run 'vmtools COMMAND -h' for a command's options; see vmtools(7).
`;
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
    name = sub in COMMANDS ? sub : `vm${sub}`;
    argv = argv.slice(1);
    if (!(name in COMMANDS)) {
      processOutput.err(`vmtools: unknown command '${sub}'\n${usage()}`);
      return 2;
    }
  }
  const load = COMMANDS[name];
  if (!load) {
    processOutput.err(
      `${name}: not available yet in this version of vmtools\n`,
    );
    return 2;
  }
  const { default: command } = await load();
  return await runCommand(command, argv, { output: processOutput, prog: name });
}

Deno.exit(await main());
