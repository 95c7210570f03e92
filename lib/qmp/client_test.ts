import assert from "node:assert/strict";
import { QmpClient, QmpCommandError, type QmpEvent, QmpUnavailableError } from "./client.ts";

/** A daemonized QEMU with a QMP socket in its own temporary directory. */
interface Qemu {
  socket: string;
  pid: number;
  [Symbol.asyncDispose](): Promise<void>;
}

async function startQemu(extra: string[] = []): Promise<Qemu> {
  const dir = await Deno.makeTempDir({ prefix: "vmtools-qmp-" });
  const socket = `${dir}/monitor.sock`;
  const pidfile = `${dir}/qemu.pid`;
  const { code, stderr } = await new Deno.Command("qemu-system-x86_64", {
    args: [
      ...["-accel", "tcg", "-display", "none", "-nodefaults"],
      ...["-qmp", `unix:${socket},server=on,wait=off`],
      ...["-daemonize", "-pidfile", pidfile],
      ...extra,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`qemu failed: ${new TextDecoder().decode(stderr)}`);
  }
  const pid = Number((await Deno.readTextFile(pidfile)).trim());
  return {
    socket,
    pid,
    async [Symbol.asyncDispose]() {
      killQuietly(pid);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Polls until `pid` has exited (a zombie counts: init may not reap it at once). */
async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    } catch {
      return true;
    }
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

const MACHINE_NONE = ["-machine", "none"];

Deno.test("query-status and greeting from a real QEMU", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  const client = await QmpClient.connect(qemu.socket);
  try {
    assert.equal(client.greeting.version.qemu.major >= 7, true);
    const status = await client.execute<{ status: string; running: boolean }>(
      "query-status",
    );
    assert.equal(typeof status.status, "string");
    assert.equal(typeof status.running, "boolean");
  } finally {
    client.close();
  }
  await client.closed;
  assert.equal(client.isClosed, true);
});

Deno.test("errors are reported and the connection stays usable", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  const client = await QmpClient.connect(qemu.socket);
  try {
    await assert.rejects(client.execute("no-such-command"), (error) => {
      assert.ok(error instanceof QmpCommandError);
      assert.equal(error.errorClass, "CommandNotFound");
      assert.equal(error.command, "no-such-command");
      assert.match(error.desc, /no-such-command/);
      return true;
    });
    await assert.rejects(
      client.execute("query-status", { bogus: 1 }),
      (error) => error instanceof QmpCommandError && error.errorClass === "GenericError",
    );
    const version = await client.execute<{ qemu: { major: number } }>(
      "query-version",
    );
    assert.equal(version.qemu.major, client.greeting.version.qemu.major);
  } finally {
    client.close();
  }
});

Deno.test("concurrent commands get their own replies", async () => {
  await using qemu = await startQemu([...MACHINE_NONE, "-name", "qmp-test"]);
  const client = await QmpClient.connect(qemu.socket);
  try {
    const [status, name, version] = await Promise.all([
      client.execute<{ running: boolean }>("query-status"),
      client.execute<{ name?: string }>("query-name"),
      client.execute<{ package: string }>("query-version"),
    ]);
    assert.equal(typeof status.running, "boolean");
    assert.equal(name.name, "qmp-test");
    assert.equal(typeof version.package, "string");
  } finally {
    client.close();
  }
});

Deno.test("hmp runs a human monitor command", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  const client = await QmpClient.connect(qemu.socket);
  try {
    assert.match(await client.hmp("info status"), /^VM status: /);
  } finally {
    client.close();
  }
});

Deno.test("waitEvent sees STOP/RESUME and times out with undefined", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  const client = await QmpClient.connect(qemu.socket);
  try {
    const stop = client.waitEvent("STOP", 5000);
    await client.execute("stop");
    assert.equal((await stop)?.event, "STOP");
    await client.execute("cont");
    // RESUME has arrived before this call: it must come from the buffer.
    await client.execute("query-status");
    const resume = await client.waitEvent("RESUME", 0);
    assert.equal(resume?.event, "RESUME");
    assert.equal(await client.waitEvent("RESUME", 100), undefined);
  } finally {
    client.close();
  }
});

Deno.test("quit: SHUTDOWN is buffered and closed resolves", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  const client = await QmpClient.connect(qemu.socket);
  await client.execute("quit");
  await client.closed;
  assert.equal(client.isClosed, true);
  const event = await client.waitEvent("SHUTDOWN", 0);
  assert.equal(event?.data?.reason, "host-qmp-quit");
  await assert.rejects(
    client.execute("query-status"),
    (error) => error instanceof QmpUnavailableError && error.reason === "closed",
  );
  assert.equal(await waitGone(qemu.pid, 5000), true);
});

Deno.test("system_reset with -no-reboot emits SHUTDOWN and QEMU exits", async () => {
  await using qemu = await startQemu(["-machine", "pc", "-no-reboot"]);
  const client = await QmpClient.connect(qemu.socket);
  try {
    await client.execute("system_reset");
    const event: QmpEvent | undefined = await client.waitEvent(
      "SHUTDOWN",
      10000,
    );
    assert.equal(event?.data?.reason, "host-qmp-system-reset");
    await client.closed;
  } finally {
    client.close();
  }
  assert.equal(await waitGone(qemu.pid, 5000), true);
});

Deno.test("stale socket: QmpUnavailableError naming the path", async () => {
  await using qemu = await startQemu(MACHINE_NONE);
  Deno.kill(qemu.pid, "SIGKILL");
  assert.equal(await waitGone(qemu.pid, 5000), true);
  await Deno.stat(qemu.socket); // the socket file is left behind
  // A zombie leader's other threads may still hold the socket open a moment.
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ transport: "unix", path: qemu.socket })).close();
    } catch {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await assert.rejects(QmpClient.connect(qemu.socket), (error) => {
    assert.ok(error instanceof QmpUnavailableError);
    assert.equal(error.reason, "refused");
    assert.ok(error.message.includes(qemu.socket));
    return true;
  });
});

Deno.test("missing socket: QmpUnavailableError naming the path", async () => {
  const path = `${await Deno.makeTempDir()}/absent.sock`;
  try {
    await assert.rejects(QmpClient.connect(path), (error) => {
      assert.ok(error instanceof QmpUnavailableError);
      assert.equal(error.reason, "missing");
      assert.ok(error.message.includes(path));
      return true;
    });
  } finally {
    await Deno.remove(path.replace(/\/[^/]+$/, ""), { recursive: true });
  }
});

/** A scripted stand-in for QEMU, for cases a real QEMU does not produce. */
async function withFakeServer(
  serve: (conn: Deno.UnixConn) => Promise<void>,
  test: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vmtools-qmp-fake-" });
  const path = `${dir}/fake.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await serve(conn);
    } finally {
      try {
        conn.close();
      } catch {
        // Closed by the script.
      }
    }
  })();
  try {
    await test(path);
  } finally {
    await served;
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Reads one request line from the client. */
async function readRequest(
  conn: Deno.UnixConn,
): Promise<{ execute: string; id: string }> {
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes("\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("client went away");
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return JSON.parse(text);
}

const GREETING = JSON.stringify({
  QMP: {
    version: { qemu: { major: 7, minor: 2, micro: 0 }, package: "" },
    capabilities: [],
  },
}) + "\r\n";

Deno.test("connection closed before the greeting", async () => {
  await withFakeServer((conn) => {
    conn.close();
    return Promise.resolve();
  }, async (path) => {
    await assert.rejects(
      QmpClient.connect(path),
      (error) => error instanceof QmpUnavailableError && error.reason === "closed",
    );
  });
});

Deno.test("handshake timeout", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await withFakeServer(() => released, async (path) => {
    try {
      await assert.rejects(QmpClient.connect(path, { timeoutMs: 200 }), (error) => {
        assert.ok(error instanceof QmpUnavailableError);
        assert.equal(error.reason, "timeout");
        assert.ok(error.message.includes(path));
        return true;
      });
    } finally {
      release();
    }
  });
});

Deno.test("lines split across reads, events between replies", async () => {
  await withFakeServer(async (conn) => {
    // Greeting in two pieces.
    await conn.write(encode(GREETING.slice(0, 10)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await conn.write(encode(GREETING.slice(10)));
    const caps = await readRequest(conn);
    await conn.write(encode(JSON.stringify({ return: {}, id: caps.id }) + "\n"));

    const request = await readRequest(conn);
    const event = JSON.stringify({
      event: "STOP",
      timestamp: { seconds: 1, microseconds: 2 },
    });
    const reply = JSON.stringify({ return: "é ✓", id: request.id });
    const bytes = encode(`${event}\n${reply}\n`);
    // Cut inside the multi-byte characters as well as inside the lines.
    for (let i = 0; i < bytes.length; i += 7) {
      await conn.write(bytes.subarray(i, i + 7));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }, async (path) => {
    const client = await QmpClient.connect(path);
    try {
      assert.equal(await client.execute("echo"), "é ✓");
      assert.equal((await client.waitEvent("STOP", 0))?.timestamp.seconds, 1);
      await client.closed; // the fake server hangs up
    } finally {
      client.close();
    }
  });
});
