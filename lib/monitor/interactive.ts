/**
 * The interactive monitor on a terminal: line editing, a history kept
 * between sessions, and completion of command names. `node:readline` is
 * imported here only, when a terminal session starts, so no other path pays
 * for the Node compatibility layer.
 * @module
 */
import { QmpCommandError } from "../qmp/client.ts";
import type { Logger } from "../ui/log.ts";
import type { MonitorRunner } from "./hmp.ts";
import { PROMPT } from "./repl.ts";

const HISTORY_SIZE = 1000;

/** Options of {@linkcode interactive}. */
export interface InteractiveOptions {
  /** Where the history is kept; none: only for this session. */
  historyFile?: string;
}

/**
 * Runs a monitor session on the terminal until Ctrl-D, `quit`, or the VM
 * going away (then a `VmError` is thrown). Returns the exit status.
 */
export async function interactive(
  runner: MonitorRunner,
  log: Logger,
  opts: InteractiveOptions = {},
): Promise<number> {
  const readline = await import("node:readline");
  const { default: process } = await import("node:process");
  const history = opts.historyFile ? loadHistory(opts.historyFile) : [];
  const names = runner.commandNames();
  const infoNames = runner.commandNames("info");
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    prompt: PROMPT,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (
      line: string,
      done: (err: null, result: [string[], string]) => void,
    ) => {
      Promise.all([names, infoNames]).then(([cmds, infos]) => done(null, complete(line, cmds, infos)));
    },
  });
  rl.on("SIGINT", () => {
    // Like a shell: drop the line being typed, not the session.
    rl.write(null, { ctrl: true, name: "e" });
    process.stdout.write("^C\n");
    rl.write(null, { ctrl: true, name: "u" });
  });
  try {
    rl.prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (line !== "") {
        if (opts.historyFile) appendHistory(opts.historyFile, line);
        try {
          const reply = await runner.run(line);
          process.stdout.write(reply.output);
          if (reply.ended) return 0;
        } catch (e) {
          if (!(e instanceof QmpCommandError)) throw e;
          log.error(e.desc);
        }
      }
      rl.prompt();
    }
    process.stdout.write("\n");
    return 0;
  } finally {
    rl.close();
  }
}

/**
 * Completes the first word from `commands`, and the word after `info` from
 * `infos`; returns the candidates and the part of the line they complete.
 */
export function complete(
  line: string,
  commands: readonly string[],
  infos: readonly string[],
): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  // A single candidate gets its blank, so the next Tab goes on to the next word.
  const pick = (from: readonly string[], word: string): [string[], string] => {
    const found = from.filter((c) => c.startsWith(word));
    return [found.length === 1 ? [found[0] + " "] : found, word];
  };
  if (words.length === 1) return pick(commands, words[0]);
  if (words.length === 2 && (words[0] === "info" || words[0] === "i")) {
    return pick(infos, words[1]);
  }
  return [[], words[words.length - 1]];
}

/** Where the history lives by default: `~/.local/state/vmtools/vmmon_history`. */
export function defaultHistoryFile(): string | undefined {
  const home = Deno.env.get("HOME");
  return home ? `${home}/.local/state/vmtools/vmmon_history` : undefined;
}

/** The saved history, newest first (readline's order), at most {@linkcode HISTORY_SIZE} lines. */
export function loadHistory(path: string): string[] {
  let lines: string[];
  try {
    lines = Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
  const kept = lines.slice(-HISTORY_SIZE);
  if (lines.length > 2 * HISTORY_SIZE) {
    try { // appending only, the file is trimmed now and then
      Deno.writeTextFileSync(path, kept.join("\n") + "\n");
    } catch { /* keep it long */ }
  }
  return kept.reverse();
}

/** Appends a line to the history file; failures only cost the history. */
export function appendHistory(path: string, line: string): void {
  try {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), {
      recursive: true,
      mode: 0o700,
    });
    Deno.writeTextFileSync(path, line + "\n", { append: true, mode: 0o600 });
  } catch { /* a read-only home: no history */ }
}
