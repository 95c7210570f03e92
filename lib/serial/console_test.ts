import { equal, match, ok, rejects } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { attachPiped, connectSerial } from "./console.ts";
import { LineMatcher } from "./expect.ts";
import { textSink } from "./testing.ts";

/** A fake guest on a unix socket: answers each input after `delayMs`. */
function fakeGuest(path: string, delayMs: number) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        const got = new TextDecoder().decode(buf.subarray(0, n)).trim();
        await new Promise((r) => setTimeout(r, delayMs));
        await conn.write(new TextEncoder().encode(`answer to ${got}\n`));
      }
    } catch { /* client left */ }
    conn.close();
  })();
  return {
    async close() {
      listener.close();
      await served;
    },
  };
}

Deno.test("attachPiped waits for a slow guest's first answer, then for quiet", async () => {
  const dir = Deno.makeTempDirSync();
  const guest = fakeGuest(`${dir}/s.sock`, 700);
  try {
    const conn = await connectSerial(`${dir}/s.sock`, "test");
    const out = textSink();
    const started = Date.now();
    const code = await attachPiped(conn, {
      label: "test",
      stdout: out,
      notice: () => {},
      input: ReadableStream.from([new TextEncoder().encode("ping\n")]),
      quietMs: 200,
      firstAnswerMs: 5000,
    });
    equal(code, 0);
    equal(out.text, "answer to ping\n");
    const took = Date.now() - started;
    ok(took >= 700 && took < 4000, `took ${took} ms`);
  } finally {
    await guest.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("attachPiped with no input leaves after the quiet period", async () => {
  const dir = Deno.makeTempDirSync();
  const guest = fakeGuest(`${dir}/s.sock`, 0);
  try {
    const conn = await connectSerial(`${dir}/s.sock`, "test");
    const started = Date.now();
    const code = await attachPiped(conn, {
      label: "test",
      stdout: textSink(),
      notice: () => {},
      input: ReadableStream.from<Uint8Array>([]),
      quietMs: 200,
      firstAnswerMs: 5000,
    });
    equal(code, 0);
    ok(Date.now() - started < 2000);
  } finally {
    await guest.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("connectSerial names the VM when there is no socket", async () => {
  try {
    await connectSerial("/nonexistent/serial.sock", "myvm");
    ok(false, "connected");
  } catch (e) {
    match((e as Error).message, /^myvm: no serial console socket/);
  }
});

// ---- --expect (issue 11)

/** A fake guest that, once it gets input, prints each part after its delay. */
function scriptedGuest(path: string, parts: [number, string][]) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      if ((await conn.read(new Uint8Array(1024))) !== null) {
        for (const [delay, text] of parts) {
          await new Promise((r) => setTimeout(r, delay));
          await conn.write(new TextEncoder().encode(text));
        }
      }
      await conn.read(new Uint8Array(1024)); // until the client leaves
    } catch { /* client left */ }
    conn.close();
  })();
  return {
    async close() {
      listener.close();
      await served;
    },
  };
}

Deno.test("attachPiped --expect waits past silences for the line, then leaves at once", async () => {
  const dir = Deno.makeTempDirSync();
  const guest = scriptedGuest(`${dir}/s.sock`, [[50, "root\r\n"], [600, "Password-less login\r\n"], [
    50,
    "~ # ",
  ]]);
  try {
    const conn = await connectSerial(`${dir}/s.sock`, "test");
    const out = textSink();
    const code = await attachPiped(conn, {
      label: "test",
      stdout: out,
      notice: () => {},
      input: ReadableStream.from([new TextEncoder().encode("root\n")]),
      quietMs: 200,
      expect: new LineMatcher(/# $/),
      expectMs: 20_000,
    });
    equal(code, 0);
    equal(out.text, "root\r\nPassword-less login\r\n~ # ");
  } finally {
    await guest.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("attachPiped --expect: time up is one line saying the VM is left running", async () => {
  const dir = Deno.makeTempDirSync();
  const guest = scriptedGuest(`${dir}/s.sock`, [[0, "something else\r\n"]]);
  try {
    const conn = await connectSerial(`${dir}/s.sock`, "myvm");
    await rejects(
      attachPiped(conn, {
        label: "myvm",
        stdout: textSink(),
        notice: () => {},
        input: ReadableStream.from([new TextEncoder().encode("x\n")]),
        quietMs: 100,
        expect: new LineMatcher(/never/),
        expectMs: 500,
      }),
      (e) =>
        e instanceof VmError &&
        e.message ===
          "myvm: no line matching /never/ on the serial console within 0.5 s; the VM is left running",
    );
  } finally {
    await guest.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
