/**
 * Removing terminal queries from a guest's serial output before it reaches
 * the user's terminal. A guest asks its terminal things (cursor position,
 * device attributes, colours…) and a real terminal answers by typing the
 * answer: while `vmmon -f` only shows a log, those answers land in the
 * user's shell as garbage. Colours and cursor movement pass untouched.
 * @module
 */

/* The sequences a terminal answers, as latin1 text: DSR (`ESC[5n`, `ESC[6n`,
 * `ESC[?6n`), device attributes (`ESC[c`, `ESC[>c`, `ESC[=c`), XTVERSION
 * (`ESC[>q`), window reports (`ESC[14t`, `ESC[18t`…), mode requests
 * (`ESC[?25$p`), DCS requests (`ESC P $ q … ESC \`, `ESC P + q … ESC \`),
 * OSC queries (`ESC]11;?BEL`), DECID (`ESC Z`) and ENQ. */
const QUERY = new RegExp(
  [
    "\\x1b\\[\\??\\d*n",
    "\\x1b\\[[>=]?\\d*c",
    "\\x1b\\[>\\d*q",
    "\\x1b\\[(?:1[13-9]|2[01])(?:;\\d*)*t",
    "\\x1b\\[\\??\\d+\\$p",
    "\\x1bP[$+]q[^\\x1b\\x07]*(?:\\x1b\\\\|\\x07)",
    "\\x1b\\][0-9;]*\\?(?:\\x1b\\\\|\\x07)",
    "\\x1bZ",
    "\\x05",
  ].join("|"),
  "g",
);

/** An escape sequence that has not ended yet at the end of a chunk. */
// deno-lint-ignore no-control-regex -- escape sequences are what this module looks for
const UNFINISHED = /\x1b(?:\[[0-9;?>=$]*|\][0-9;?]*|P[$+]?q?[^\x1b\x07]*|)$/;

/** Longest unfinished sequence held back before giving up and passing it on. */
const MAX_HELD = 256;

/** Filters a byte stream chunk by chunk; sequences split between chunks are still found. */
export class QueryFilter {
  #held = "";

  /** The chunk without terminal queries (part of its end may be held back for the next call). */
  filter(chunk: Uint8Array): Uint8Array {
    let text = this.#held + latin1(chunk);
    this.#held = "";
    const tail = UNFINISHED.exec(text);
    if (tail && tail[0].length <= MAX_HELD) {
      this.#held = tail[0];
      text = text.slice(0, tail.index);
    }
    return bytes(text.replace(QUERY, ""));
  }

  /** Whatever is held back, once the stream has ended. */
  flush(): Uint8Array {
    const rest = this.#held.replace(QUERY, "");
    this.#held = "";
    return bytes(rest);
  }
}

function latin1(chunk: Uint8Array): string {
  let s = "";
  for (let i = 0; i < chunk.length; i += 8192) s += String.fromCharCode(...chunk.subarray(i, i + 8192));
  return s;
}

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
