/**
 * Timers that cost nothing at start-up. In Deno 2.9 the global `setTimeout`
 * loads the Node.js timers layer on first use (about 10 ms, measured), which
 * every command would pay; `AbortSignal.timeout` does not.
 * @module
 */

/** Calls `fn` after `ms` milliseconds; the returned function cancels it. */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  const handler = () => fn();
  signal.addEventListener("abort", handler, { once: true });
  return () => signal.removeEventListener("abort", handler);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => after(ms, resolve));
}
