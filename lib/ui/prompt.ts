/**
 * Questions to the user, of five kinds: free text with a check, yes/no, a
 * whole number, one choice from a list, several choices from a list. When
 * stdin and stderr are terminals a question is a prompt the user answers
 * with keys (`./prompt_terminal.ts`, loaded only then); otherwise it is
 * asked on stderr and answered by a line on stdin, as a script pipes them.
 * An empty line or the end of piped input takes the proposal; the end of
 * input at a terminal (Ctrl-D) aborts.
 * @module
 */
import { VmError } from "../errors.ts";
import { run } from "../spawn.ts";
import type { Output } from "./log.ts";

/** One entry of a list to choose from. */
export interface Choice {
  /** What choosing it answers (and what a piped answer gives). */
  value: string;
  /** How the list shows it; the value when absent. */
  label?: string;
  /** One line shown for the highlighted entry. */
  description?: string;
}

/** A question, by kind, with the answer proposed. */
export type Question =
  | {
    kind: "text";
    message: string;
    proposal: string;
    /** Returns what is expected instead of a bad answer, or `undefined`. */
    check?: (answer: string) => string | undefined;
  }
  | { kind: "confirm"; message: string; proposal: boolean }
  | { kind: "number"; message: string; proposal: number; min?: number; max?: number }
  | { kind: "choice"; message: string; proposal: string; choices: readonly Choice[] }
  | { kind: "choices"; message: string; proposal: readonly string[]; choices: readonly Choice[] };

/** The answer to a question of kind `Q`. */
export type Answer<Q extends Question> = Q["proposal"] extends readonly string[] ? string[]
  : Q["proposal"];

/** The user ended the input (Ctrl-D) at a terminal question: stop there. */
export class PromptAborted extends VmError {
  /** Names the class in stack traces and `String(err)` (it would say `VmError`). */
  override name = "PromptAborted";
  /** `question` is the question the input ended at, named in the message. */
  constructor(readonly question: string) {
    super(`aborted at '${question}' (end of input)`);
  }
}

/** Where answers are read from when they are not typed at a prompt. */
export interface LineInput {
  /** Reads into `p`: the number of bytes read, or `null` at the end of input. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Asks questions; `assumeYes` takes every proposal without asking. */
export class Prompter {
  #buffer = "";
  #eof = false;

  /**
   * `output` takes the questions and tells whether stdin and stderr are
   * terminals; `input` gives the answers when they are not typed at a
   * prompt (a test's bytes). Only `Deno.stdin` is ever asked at a terminal.
   */
  constructor(
    readonly output: Output,
    readonly assumeYes: boolean,
    readonly input: LineInput = Deno.stdin,
  ) {}

  /** Free text, proposing `proposal`; `check` returns what is expected instead of a bad answer. */
  ask(
    question: string,
    proposal: string,
    check?: (answer: string) => string | undefined,
  ): Promise<string> {
    return this.pose({ kind: "text", message: question, proposal, check });
  }

  /** Yes or no. */
  confirm(question: string, proposal: boolean): Promise<boolean> {
    return this.pose({ kind: "confirm", message: question, proposal });
  }

  /** A whole number, at least `min` and at most `max` when given. */
  number(
    question: string,
    proposal: number,
    range: { min?: number; max?: number } = {},
  ): Promise<number> {
    return this.pose({ kind: "number", message: question, proposal, ...range });
  }

  /** One value of `choices`. */
  choose(question: string, choices: readonly Choice[], proposal: string): Promise<string> {
    return this.pose({ kind: "choice", message: question, proposal, choices });
  }

  /** Any number of the values of `choices`, in the list's order. */
  chooseSeveral(
    question: string,
    choices: readonly Choice[],
    proposal: readonly string[],
  ): Promise<string[]> {
    return this.pose({ kind: "choices", message: question, proposal, choices });
  }

  /** Asks any question (the methods above are shorthands). */
  async pose<Q extends Question>(q: Q): Promise<Answer<Q>> {
    if (this.assumeYes) return proposalOf(q) as Answer<Q>;
    if (
      this.output.inIsTerminal && this.output.errIsTerminal && this.input === Deno.stdin &&
      await ownTerminal()
    ) {
      // Loaded here only: the prompt library costs start-up time.
      const { askAtTerminal } = await import("./prompt_terminal.ts");
      return await askAtTerminal(q) as Answer<Q>;
    }
    return await this.#askByLine(q) as Answer<Q>;
  }

  async #askByLine(q: Question): Promise<unknown> {
    for (;;) {
      this.output.err(`${q.message}${q.kind === "confirm" ? " (yes/no)" : ""} [${shown(q)}]: `);
      const line = await this.#readLine();
      if (line === undefined) {
        this.output.err("\n");
        if (this.output.inIsTerminal) throw new PromptAborted(q.message);
      }
      const text = line?.trim() ?? "";
      const reading = readAnswer(q, text);
      if ("value" in reading) return reading.value;
      if (!this.output.inIsTerminal) {
        throw new VmError(
          `answer '${text || shown(q)}' to '${q.message}': expected ${reading.expected}`,
        );
      }
      this.output.err(`expected ${reading.expected}\n`);
    }
  }

  async #readLine(): Promise<string | undefined> {
    const chunk = new Uint8Array(4096);
    while (!this.#buffer.includes("\n") && !this.#eof) {
      const n = await this.input.read(chunk);
      if (n === null) this.#eof = true;
      else this.#buffer += new TextDecoder().decode(chunk.subarray(0, n));
    }
    if (this.#buffer === "" && this.#eof) return undefined;
    const i = this.#buffer.indexOf("\n");
    const line = i < 0 ? this.#buffer : this.#buffer.slice(0, i);
    this.#buffer = i < 0 ? "" : this.#buffer.slice(i + 1);
    return line;
  }
}

function proposalOf(q: Question): unknown {
  return q.kind === "choices" ? [...q.proposal] : q.proposal;
}

/** The proposal as a line-mode question shows it (and as an empty answer means it). */
function shown(q: Question): string {
  switch (q.kind) {
    case "confirm":
      return q.proposal ? "yes" : "no";
    case "choices":
      return q.proposal.length ? q.proposal.join(" ") : "none";
    case "choice":
      // A value may be empty ("none of these"): show its label then.
      return q.proposal || (q.choices.find((c) => c.value === "")?.label ?? "");
    default:
      return String(q.proposal);
  }
}

/**
 * Reads a typed or piped answer to `q`: the value, or what is expected
 * instead. An empty answer is the proposal (a text proposal is checked too).
 */
export function readAnswer(q: Question, text: string): { value: unknown } | { expected: string } {
  if (text === "" && q.kind !== "text") return { value: proposalOf(q) };
  switch (q.kind) {
    case "text": {
      const answer = text || q.proposal;
      const problem = q.check?.(answer);
      return problem ? { expected: problem } : { value: answer };
    }
    case "confirm":
      if (/^(y|yes)$/i.test(text)) return { value: true };
      if (/^(n|no)$/i.test(text)) return { value: false };
      return { expected: "yes or no" };
    case "number": {
      const problem = checkNumber(text, q);
      return problem ? { expected: problem } : { value: Number(text) };
    }
    case "choice": {
      const value = choiceOf(q.choices, text);
      return value === undefined ? { expected: oneOf(q.choices) } : { value };
    }
    case "choices": {
      if (text === "-" || (text === "none" && choiceOf(q.choices, text) === undefined)) {
        return { value: [] };
      }
      const picked = new Set<string>();
      for (const word of text.split(/[\s,]+/)) {
        const value = choiceOf(q.choices, word);
        if (value === undefined) {
          return { expected: `${oneOf(q.choices)}, several separated by blanks, or - for none` };
        }
        picked.add(value);
      }
      return { value: q.choices.map((c) => c.value).filter((v) => picked.has(v)) };
    }
  }
}

/** What is expected instead of `text` as an answer to a number question, or `undefined`. */
export function checkNumber(
  text: string,
  range: { min?: number; max?: number },
): string | undefined {
  const { min, max } = range;
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n) && (min === undefined || n >= min) && (max === undefined || n <= max)) {
    return undefined;
  }
  if (min !== undefined && max !== undefined) return `a whole number from ${min} to ${max}`;
  if (min !== undefined) return `a whole number of at least ${min}`;
  if (max !== undefined) return `a whole number of at most ${max}`;
  return "a whole number";
}

/** The value `text` names: a value of the list, else its number in the list (from 1). */
function choiceOf(choices: readonly Choice[], text: string): string | undefined {
  const exact = choices.find((c) => c.value === text);
  if (exact) return exact.value;
  return /^\d+$/.test(text) ? choices[Number(text) - 1]?.value : undefined;
}

/** "one of a, b, c (or its number, 1 to 3)", the list cut short when long. */
function oneOf(choices: readonly Choice[]): string {
  if (!choices.length) return "nothing (there is nothing to choose from)";
  // An empty value (none of these) can only be given by its number.
  const values = choices.map((c, i) => c.value || `${i + 1} for ${c.label ?? "none"}`);
  const listed = values.length > 12 ? [...values.slice(0, 12), "…"] : values;
  return `one of ${listed.join(", ")} (or its number, 1 to ${values.length})`;
}

/**
 * Whether this user owns the terminal on stdin. The prompt library reopens
 * the terminal device, which fails after `su` or `sudo -u` (the terminal
 * stays the first user's) and leaves its prompt unable to finish: there the
 * questions are asked line by line instead. /proc is closed to vmtools, so
 * `ps` names the terminal (only when a question is about to be asked).
 */
async function ownTerminal(): Promise<boolean> {
  const uid = Deno.uid();
  if (uid === 0) return true;
  try {
    const { stdout } = await run("ps", ["-o", "tty=", "-p", String(Deno.pid)]);
    const tty = stdout.trim();
    if (!/^[\w/]+$/.test(tty) || tty === "?") return true;
    const owner = Deno.statSync(`/dev/${tty}`).uid;
    return owner === null || owner === uid;
  } catch {
    return true;
  }
}
