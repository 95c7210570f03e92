/**
 * Questions at a terminal, answered with keys: `@inquirer/prompts` on the
 * terminal's stdin, drawn on stderr (stdout stays for data). Loaded only when
 * a question is really asked at a terminal: the library and Node's streams
 * cost start-up time no other path should pay.
 *
 * Ctrl-D aborts (the creation is undone). Ctrl-C, which the prompt reads as
 * a key in raw mode, is turned back into the SIGINT it would have been, so
 * that it ends the program exactly as a Ctrl-C anywhere else does: what was
 * half made is undone and the exit status is 130.
 * @module
 */
import process from "node:process";
import { sleep } from "../timer.ts";
import { checkNumber, type Choice, PromptAborted, type Question } from "./prompt.ts";

/** Asks `q` at the terminal; resolves to its answer. */
export async function askAtTerminal(q: Question): Promise<unknown> {
  const eof = new AbortController();
  const onKey = (_: unknown, key?: { ctrl?: boolean; name?: string }) => {
    if (key?.ctrl && key.name === "d") eof.abort();
  };
  // Before the import: the prompts decide some colours as they load.
  const restore = colorsByStderr();
  process.stdin.on("keypress", onKey);
  globalThis.addEventListener("unload", showCursor);
  const context = { input: process.stdin, output: process.stderr, signal: eof.signal };
  try {
    return await ask(await import("@inquirer/prompts"), q, context);
  } catch (e) {
    const name = (e as Error | undefined)?.name;
    if (name === "AbortPromptError") throw new PromptAborted(q.message);
    if (name === "ExitPromptError") await interrupt();
    throw e;
  } finally {
    restore();
    process.stdin.off("keypress", onKey);
    globalThis.removeEventListener("unload", showCursor);
  }
}

/**
 * A list hides the cursor while it is shown; a signal that ends the program
 * there (SIGTERM, say: the handler of a change exits at once) would leave
 * the terminal without one.
 */
function showCursor(): void {
  Deno.stderr.writeSync(new TextEncoder().encode("\x1b[?25h"));
}

/**
 * The prompts colour what they draw when stdout is a terminal of enough
 * colours, which Node answers from a dozen environment variables (CI, TMUX,
 * TERM_PROGRAM…) outside the permission set. They draw on stderr: colour
 * exactly when stderr is a terminal (it is, to get here) and `NO_COLOR` is
 * unset, without asking the environment. Returns what undoes it.
 */
function colorsByStderr(): () => void {
  const stdout = process.stdout as unknown as Record<string, unknown>;
  const saved = ["isTTY", "getColorDepth"].map((key) =>
    [key, Object.getOwnPropertyDescriptor(stdout, key)] as const
  );
  Object.defineProperty(stdout, "isTTY", { value: !Deno.noColor, configurable: true, writable: true });
  Object.defineProperty(stdout, "getColorDepth", { value: () => 8, configurable: true, writable: true });
  return () => {
    for (const [key, descriptor] of saved) {
      delete stdout[key];
      if (descriptor) Object.defineProperty(stdout, key, descriptor);
    }
  };
}

type Inquirer = typeof import("@inquirer/prompts");
type Context = Parameters<Inquirer["input"]>[1];

function ask(
  { checkbox, confirm, input, select }: Inquirer,
  q: Question,
  context: Context,
): Promise<unknown> {
  switch (q.kind) {
    case "text":
      return input({
        message: q.message,
        default: q.proposal,
        validate: (answer: string) => {
          const problem = q.check?.(answer.trim() || q.proposal);
          return problem ? `expected ${problem}` : true;
        },
      }, context).then((answer: string) => answer.trim() || q.proposal);
    case "confirm":
      return confirm({ message: q.message, default: q.proposal }, context);
    case "number":
      // A text prompt with the same check as a piped answer: inquirer's
      // number prompt would take 1e3 or 0x10, and word its refusals itself.
      return input({
        message: q.message,
        default: String(q.proposal),
        validate: (answer: string) => {
          const problem = checkNumber(answer.trim() || String(q.proposal), q);
          return problem ? `expected ${problem}` : true;
        },
      }, context).then((answer: string) => Number(answer.trim() || q.proposal));
    case "choice":
      return select({
        message: q.message,
        choices: q.choices.map(entry),
        default: q.proposal,
        pageSize: 12,
      }, context);
    case "choices":
      return checkbox({
        message: q.message,
        choices: q.choices.map((c) => ({ ...entry(c), checked: q.proposal.includes(c.value) })),
        pageSize: 12,
      }, context);
  }
}

/** A list entry: shown by its label, and once chosen by its value. */
function entry(c: Choice): { value: string; name: string; short: string; description?: string } {
  const name = c.label ?? c.value;
  return { value: c.value, name, short: c.value || name, description: c.description };
}

/**
 * Raises SIGINT: the handler of a change in progress undoes it and exits
 * 130; without one, SIGINT ends the program as it always does.
 */
async function interrupt(): Promise<never> {
  Deno.kill(Deno.pid, "SIGINT");
  // A handler runs from the event loop (and undoes synchronously): give it
  // its turn; should someone ignore SIGINT, still end as Ctrl-C does.
  await sleep(5000);
  Deno.exit(130);
}
