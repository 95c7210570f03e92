import { deepEqual as assertEquals } from "node:assert/strict";
import { readLines } from "./lines.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(stream)) out.push(line);
  return out;
}

Deno.test("readLines splits on LF and CR LF, across chunks", async () => {
  assertEquals(
    await collect(streamOf("info st", "atus\r\nhelp\n", "\nlast")),
    ["info status", "help", "", "last"],
  );
});

Deno.test("readLines yields nothing for an empty stream", async () => {
  assertEquals(await collect(streamOf()), []);
  assertEquals(await collect(streamOf("one\n")), ["one"]);
});

Deno.test("readLines keeps multi-byte characters split between chunks", async () => {
  const bytes = new TextEncoder().encode("fóò\n");
  const stream = ReadableStream.from([bytes.slice(0, 2), bytes.slice(2)]);
  assertEquals(await collect(stream), ["fóò"]);
});
