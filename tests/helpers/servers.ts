/**
 * Servers that tests start in the foreground on a loopback TCP port they
 * pick, and stop again: a port nobody used a moment ago is taken, and
 * taken again when another process got it first.
 * @module
 */
import { after } from "../../lib/timer.ts";
import { waitFor } from "./vmtools.ts";

/** A server a test started. */
export interface LoopbackServer {
  /** The TCP port on 127.0.0.1 where it listens. */
  port: number;
  /** Stops it (by `before`, else SIGKILL) and waits until it is gone. */
  stop(): Promise<void>;
}

/** How to start one server. */
export interface ServerSpec {
  /** What it is, for messages. */
  name: string;
  /** The program. */
  command: string;
  /** Its arguments when it is to listen on `port`. */
  args: (port: number) => string[];
  /** Asked to leave before it is killed; the server gets `graceMs` to exit. */
  before?: (port: number) => Promise<void>;
  /** Run once it is gone, if it had come up (files it leaves behind). */
  after?: (port: number) => void;
  /** How long the server has to exit after {@linkcode before} (default 5 s). */
  graceMs?: number;
}

/** A free TCP port on 127.0.0.1, for the moment. */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

/** Starts `spec` on a free loopback port: ready once it accepts a TCP connection there. */
export async function startServer(spec: ServerSpec): Promise<LoopbackServer> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = freePort();
    const child = new Deno.Command(spec.command, {
      args: spec.args(port),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const gone = child.status.then(() => exited = true);
    // Gone at once when another took the port meanwhile.
    const up = await waitFor(
      async () => {
        if (exited) return "exited";
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          return "up";
        } catch {
          return undefined;
        }
      },
      10_000,
      `${spec.name} to listen`,
    ).catch(async (e) => {
      child.kill("SIGKILL");
      await child.status;
      throw e;
    });
    const stop = async () => {
      if (!exited && spec.before) {
        await spec.before(port).catch(() => {});
        let cancel = () => {};
        const grace = new Promise<void>((r) => cancel = after(spec.graceMs ?? 5000, r));
        await Promise.race([gone, grace]);
        cancel();
      }
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      spec.after?.(port);
    };
    if (up === "up") return { port, stop };
    // It did not come up: what it names by the port may be another's.
    await child.status;
  }
  throw new Error(`${spec.name} found no free port`);
}
