/**
 * The one progress line every slow task draws (image conversions and
 * copies, the tree commands' copies and merges): a bar, the percentage, the
 * rate and the time left, redrawn in place on stderr. Shown only when stderr
 * is a terminal and the verbosity allows progress (2: `-q` silences it);
 * the bar is coloured unless `NO_COLOR` is set, and a `TERM=dumb` terminal
 * gets no escape sequence at all.
 * @module
 */
import { visibleText } from "./visible.ts";
import type { Logger } from "./log.ts";

const WIDTH = 24;
/** Redraw at most this often. */
const REDRAW_MS = 100;
/** Before this much time has passed, a rate or a time left is guesswork. */
const ESTIMATE_AFTER_MS = 500;

/** How the line may be drawn: with colour, and with escape sequences at all. */
export interface Style {
  /** The bar's done part in green (not with `NO_COLOR`); needs `escapes`. */
  color: boolean;
  /** ANSI escapes may be used to clear the line (not on a `TERM=dumb` terminal, where blanks cover it). */
  escapes: boolean;
}

/** Progress of one task, in fractions of 1 or in bytes of a known total. */
export class Progress {
  #shown = false;
  #start = Date.now();
  #last = 0;
  #fraction = 0;
  #bytesDone = 0;
  #width = 0;
  readonly #style: Style;

  /** `bytes` is the amount of data the task handles, for the rate (omit when unknown). */
  constructor(readonly log: Logger, readonly label: string, readonly bytes?: number, style?: Style) {
    this.#style = style ?? terminalStyle();
  }

  /** Whether anything is drawn at all. */
  get visible(): boolean {
    return this.log.output.errIsTerminal && this.log.verbosity >= 2;
  }

  /** Records progress; redraws when due. */
  update(fraction: number): void {
    this.#fraction = Math.min(1, Math.max(0, fraction));
    const now = Date.now();
    if (!this.visible || now - this.#last < REDRAW_MS) return;
    this.#last = now;
    this.#draw(now, "");
  }

  /** Records `n` more bytes done, of the total given to the constructor. */
  advance(n: number): void {
    this.#bytesDone += n;
    this.update(this.bytes ? this.#bytesDone / this.bytes : 0);
  }

  /** Ends the line (at 100% when `ok`). */
  done(ok = true): void {
    if (!this.#shown) return;
    if (ok) this.#fraction = 1;
    this.#draw(Date.now(), "\n");
    this.#shown = false;
  }

  #draw(now: number, end: string): void {
    this.#shown = true;
    const { color, escapes } = this.#style;
    const line = formatLine(this.label, this.#fraction, now - this.#start, this.bytes, color && escapes);
    // Without escapes, blanks cover what a longer line before left on the screen.
    const width = visibleLength(line);
    const clear = escapes ? "\x1b[K" : " ".repeat(Math.max(0, this.#width - width));
    this.#width = width;
    this.log.output.err(`\r${line}${clear}${end}`);
  }
}

/**
 * How this process's stderr may be drawn on: colour unless `NO_COLOR` is
 * set (Deno reads it at start) or the terminal is dumb, which gets no escape
 * sequence either.
 */
function terminalStyle(): Style {
  let dumb = false;
  try {
    dumb = Deno.env.get("TERM") === "dumb";
  } catch { /* a permission set without TERM: assume a capable terminal */ }
  return { color: !Deno.noColor && !dumb, escapes: !dumb };
}

/**
 * One progress line: `label [#####.....]  42%  120 MB/s  0:12 left`; the
 * bar's done part in green when `color`. The rate needs `bytes` and the time
 * left half a second of history; the finished line keeps the average rate.
 */
export function formatLine(
  label: string,
  fraction: number,
  elapsedMs: number,
  bytes?: number,
  color = false,
): string {
  const filled = Math.round(fraction * WIDTH);
  const done = "#".repeat(filled);
  const bar = (color && filled ? `\x1b[32m${done}\x1b[0m` : done) + ".".repeat(WIDTH - filled);
  const parts = [`${label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%`];
  const settled = fraction >= 1 || elapsedMs > ESTIMATE_AFTER_MS;
  if (bytes && fraction > 0 && elapsedMs > 0 && settled) {
    parts.push(rate(bytes * fraction / (elapsedMs / 1000)));
  }
  if (fraction > 0 && fraction < 1 && elapsedMs > ESTIMATE_AFTER_MS) {
    parts.push(`${clock(elapsedMs * (1 - fraction) / fraction)} left`);
  }
  return parts.join("  ");
}

function visibleLength(text: string): number {
  return visibleText(text).length;
}

function rate(bytesPerSecond: number): string {
  const units = ["B/s", "KB/s", "MB/s", "GB/s"];
  let v = bytesPerSecond, i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  const mmss = `${m}:${String(sec).padStart(2, "0")}`;
  return h ? `${h}:${mmss.padStart(5, "0")}` : mmss;
}

/** Feeds `qemu-img -p` output (`    (12.34/100%)\r`) into a progress line. */
async function followQemuImg(stream: ReadableStream<Uint8Array>, progress: Progress): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const all = [...pending.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
    if (all.length) progress.update(Number(all.at(-1)![1]) / 100);
    pending = pending.slice(pending.lastIndexOf(")") + 1);
  }
}

/**
 * Waits for a `qemu-img … -p` child (stdout and stderr piped), drawing its
 * progress on `progress` and ending the line; returns its exit code and
 * what it wrote on stderr.
 */
export async function withProgress(
  child: Deno.ChildProcess,
  progress: Progress,
): Promise<{ code: number; stderr: string }> {
  const [status, , stderr] = await Promise.all([
    child.status,
    followQemuImg(child.stdout, progress),
    new Response(child.stderr).text(),
  ]);
  progress.done(status.code === 0);
  return { code: status.code, stderr };
}
