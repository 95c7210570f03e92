/**
 * A progress line for slow work (image conversion and copies): a bar, the
 * percentage, the rate and the time left, redrawn in place on stderr. Shown
 * only when stderr is a terminal and the verbosity allows progress (2).
 * @module
 */
import type { Logger } from "./log.ts";

const WIDTH = 24;
/** Redraw at most this often. */
const REDRAW_MS = 100;

/** Progress of one task, in fractions of 1. */
export class Progress {
  #shown = false;
  #start = Date.now();
  #last = 0;
  #fraction = 0;

  /** `bytes` is the amount of data the task handles, for the rate (omit when unknown). */
  constructor(readonly log: Logger, readonly label: string, readonly bytes?: number) {}

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
    this.#shown = true;
    this.log.output.err(`\r${formatLine(this.label, this.#fraction, now - this.#start, this.bytes)}\x1b[K`);
  }

  /** Ends the line (at 100% when `ok`). */
  done(ok = true): void {
    if (!this.#shown) return;
    if (ok) this.#fraction = 1;
    this.log.output.err(
      `\r${formatLine(this.label, this.#fraction, Date.now() - this.#start, this.bytes)}\x1b[K\n`,
    );
    this.#shown = false;
  }
}

/** One progress line: `label [#####.....]  42%  120 MB/s  0:12 left`. */
export function formatLine(label: string, fraction: number, elapsedMs: number, bytes?: number): string {
  const filled = Math.round(fraction * WIDTH);
  const bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
  const parts = [`${label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%`];
  if (fraction > 0 && elapsedMs > 500) {
    if (bytes) parts.push(`${rate(bytes * fraction / (elapsedMs / 1000))}`);
    if (fraction < 1) parts.push(`${clock(elapsedMs * (1 - fraction) / fraction)} left`);
  }
  return parts.join("  ");
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
export async function followQemuImg(stream: ReadableStream<Uint8Array>, progress: Progress): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const all = [...pending.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
    if (all.length) progress.update(Number(all.at(-1)![1]) / 100);
    pending = pending.slice(pending.lastIndexOf(")") + 1);
  }
}
