/**
 * Questions to the user: asked on stderr, answered by a line on stdin — typed
 * at a terminal (with its line editing) or piped in by a script. An empty
 * answer or the end of input takes the proposal.
 * @module
 */
import { VmError } from "../errors.ts";
import type { Output } from "./log.ts";

/** Asks questions; `assumeYes` takes every proposal without asking. */
export class Prompter {
  #buffer = "";
  #eof = false;

  constructor(
    readonly output: Output,
    readonly assumeYes: boolean,
    readonly input: { read(p: Uint8Array): Promise<number | null> } = Deno.stdin,
  ) {}

  /** Asks `question`, proposing `proposal`; re-asks at a terminal when `check` objects. */
  async ask(
    question: string,
    proposal: string,
    check?: (answer: string) => string | undefined,
  ): Promise<string> {
    if (this.assumeYes) return proposal;
    for (;;) {
      this.output.err(`${question} [${proposal}]: `);
      const line = await this.#readLine();
      if (line === undefined) this.output.err("\n");
      const answer = line?.trim() || proposal;
      const problem = check?.(answer);
      if (!problem) return answer;
      if (!this.output.inIsTerminal) {
        throw new VmError(
          `answer '${answer}' to '${question}': expected ${problem}`,
        );
      }
      this.output.err(`expected ${problem}\n`);
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
