/**
 * Test helper: a byte sink that collects what is written as text.
 * @module
 */

/** A sink collecting text, for the serial console and log tests. */
export function textSink(): { text: string; write(p: Uint8Array): Promise<number> } {
  const dec = new TextDecoder();
  const sink = {
    text: "",
    write(p: Uint8Array): Promise<number> {
      sink.text += dec.decode(p);
      return Promise.resolve(p.length);
    },
  };
  return sink;
}
