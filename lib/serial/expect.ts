/**
 * Watching a guest's serial output for a line that matches what a script
 * waits for (`vmup --wait`, `vmmon -s --expect`): the pattern and timeout
 * options, and a matcher fed the output chunk by chunk.
 * @module
 */
import { UsageError, VmError } from "../errors.ts";
import { visibleText } from "../ui/visible.ts";

/** The longest unfinished line kept for matching (a guest printing without line breaks must not cost more and more). */
const MAX_PARTIAL = 4096;

/** Compiles the pattern given to `option`, a JavaScript regular expression, refusing a malformed one. */
export function compilePattern(source: string, option: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new UsageError(`${option} '${source}': not a regular expression (${(e as Error).message})`);
  }
}

/** The `--timeout SEC` value in milliseconds (`undefined`: no limit); a positive number of seconds. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(?:\d+\.?\d*|\.\d+)$/.test(value) || Number(value) <= 0) {
    throw new UsageError(`--timeout '${value}': expected a number of seconds greater than 0`);
  }
  return Number(value) * 1000;
}

/**
 * Finds the first line of a stream of text that matches a pattern. A line
 * is what lies between line breaks, carriage returns dropped, as a terminal
 * shows it ({@linkcode visibleText}); the last, unfinished line counts too,
 * so that a prompt (`login: `, `# `) matches as soon as it is printed.
 */
export class LineMatcher {
  /** What a line must match somewhere (`--expect`, `--wait`; `^` and `$` anchor it to the whole line). */
  readonly pattern: RegExp;
  #partial = "";
  #decoder = new TextDecoder();
  /** The line that matched, once one did. */
  matched: string | undefined;

  /** Matches lines against `pattern`, which has no `g` or `y` flag (`test` would resume at `lastIndex`). */
  constructor(pattern: RegExp) {
    this.pattern = pattern;
  }

  /** Feeds more output (bytes are decoded as UTF-8); returns the matching line once there is one. */
  feed(chunk: Uint8Array | string): string | undefined {
    if (this.matched !== undefined) return this.matched;
    const text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    const lines = (this.#partial + text).replaceAll("\r", "").split("\n");
    this.#partial = lines.pop()!.slice(-MAX_PARTIAL);
    for (const line of [...lines, this.#partial].map(visibleText)) {
      if (this.pattern.test(line)) return this.matched = line;
    }
    return undefined;
  }

  /** Forgets the unfinished line (the output started over). */
  reset(): void {
    this.#partial = "";
    this.#decoder = new TextDecoder();
  }
}

/** How a pattern is shown in messages: `/login: /`. */
export function showPattern(pattern: RegExp): string {
  return `/${pattern.source}/`;
}

/** The error when no line matched `pattern` within `ms` (the VM is not touched); `detail` ends the line. */
export function notPrintedInTime(label: string, pattern: RegExp, ms: number, detail = ""): VmError {
  return new VmError(
    `${label}: no line matching ${showPattern(pattern)} on the serial console within ${
      Math.round(ms / 100) / 10
    } s; the VM is left running${detail}`,
  );
}
