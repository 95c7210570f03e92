/**
 * Reading text lines from a byte stream (standard input when it is a pipe or
 * a terminal without line editing), using Deno APIs only so that importing
 * it costs nothing at start-up.
 * @module
 */

/**
 * Yields each line of `stream` without its line ending (`\n` or `\r\n`).
 * A last line without a newline is yielded too; an empty stream yields
 * nothing.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.decode();
  if (pending !== "") yield pending.replace(/\r$/, "");
}
