/**
 * A client for QEMU's machine protocol (QMP) over a unix socket.
 *
 * Only Deno APIs are used so that importing this module costs nothing beyond
 * its own parse time (no Node compatibility layer).
 *
 * @module
 */
import { after } from "../timer.ts";

/** An asynchronous event sent by QEMU, such as `SHUTDOWN` or `STOP`. */
export interface QmpEvent {
  /** Event name, e.g. `"SHUTDOWN"`. */
  event: string;
  /** Event-specific payload; absent for events without one. */
  data?: Record<string, unknown>;
  /** When QEMU emitted the event. */
  timestamp: { seconds: number; microseconds: number };
}

/** The greeting QEMU sends when a client connects. */
export interface QmpGreeting {
  /** QEMU version as reported by the server. */
  version: {
    qemu: { major: number; minor: number; micro: number };
    package: string;
  };
  /** Optional protocol capabilities offered by the server. */
  capabilities: string[];
}

/** Options accepted by {@linkcode QmpClient.connect}. */
export interface QmpConnectOptions {
  /** Limit for connecting, the greeting and capability negotiation (default 5000). */
  timeoutMs?: number;
}

/** Options accepted by {@linkcode QmpClient.execute}. */
export interface QmpExecuteOptions {
  /** How long to wait for the reply (default 30000; `Infinity` waits forever). */
  timeoutMs?: number;
}

/** Why a monitor could not be used; see {@linkcode QmpUnavailableError}. */
export type QmpUnavailableReason =
  | "missing"
  | "refused"
  | "closed"
  | "timeout"
  | "error";

/**
 * The monitor cannot be talked to: the socket does not exist, nobody listens
 * on it (a stale socket left by a dead QEMU), the connection was closed (before
 * the greeting or while waiting for a reply), or QEMU did not answer in time.
 */
export class QmpUnavailableError extends Error {
  /** The socket path the client tried to use. */
  readonly path: string;
  /** A machine-readable classification of the failure. */
  readonly reason: QmpUnavailableReason;

  /** Builds the error; `detail` completes the message after the path. */
  constructor(
    path: string,
    reason: QmpUnavailableReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`QEMU monitor ${path}: ${detail}`, options);
    this.name = "QmpUnavailableError";
    this.path = path;
    this.reason = reason;
  }
}

/** QEMU answered a command with an error. */
export class QmpCommandError extends Error {
  /** The command that failed. */
  readonly command: string;
  /** QMP error class, e.g. `"GenericError"` or `"CommandNotFound"`. */
  readonly errorClass: string;
  /** QEMU's human-readable description. */
  readonly desc: string;

  /** Builds the error from the parts of a QMP error reply. */
  constructor(command: string, errorClass: string, desc: string) {
    super(`QMP ${command}: ${desc} (${errorClass})`);
    this.name = "QmpCommandError";
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface EventWaiter {
  name: string;
  resolve: (event: QmpEvent | undefined) => void;
}

type Message = Record<string, unknown>;

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_EXECUTE_TIMEOUT_MS = 30000;
/** Oldest events are dropped beyond this, so an idle client cannot grow without bound. */
const MAX_BUFFERED_EVENTS = 1000;

/**
 * A connection to one QEMU monitor socket.
 *
 * Create it with {@linkcode QmpClient.connect}; always {@linkcode close} it
 * (or let QEMU close it) so no read stays pending.
 */
export class QmpClient {
  readonly #path: string;
  readonly #conn: Deno.UnixConn;
  readonly #encoder = new TextEncoder();
  readonly #pending = new Map<string, Pending>();
  readonly #events: QmpEvent[] = [];
  readonly #waiters: EventWaiter[] = [];
  readonly #closed: Promise<void>;
  #markClosed!: () => void;
  #isClosed = false;
  #greeting?: QmpGreeting;
  #onGreeting?: (greeting: QmpGreeting) => void;
  #nextId = 1;
  #writeChain: Promise<void> = Promise.resolve();

  private constructor(path: string, conn: Deno.UnixConn) {
    this.#path = path;
    this.#conn = conn;
    this.#closed = new Promise((resolve) => this.#markClosed = resolve);
  }

  /**
   * Connects to the monitor socket at `path`, reads QEMU's greeting and
   * leaves negotiation mode with `qmp_capabilities`.
   *
   * @throws {QmpUnavailableError} when the socket is missing or stale, the
   *   connection closes before the greeting, or the handshake times out.
   */
  static async connect(
    path: string,
    opts: QmpConnectOptions = {},
  ): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path });
    } catch (error) {
      throw connectError(path, error);
    }
    const client = new QmpClient(path, conn);
    const greeting = new Promise<QmpGreeting>((resolve) => {
      client.#onGreeting = resolve;
    });
    client.#readLoop();

    let cancelTimer: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancelTimer = after(timeoutMs, () => {
        reject(
          new QmpUnavailableError(
            path,
            "timeout",
            `no handshake within ${timeoutMs} ms`,
          ),
        );
      });
    });
    const closedEarly = client.#closed.then(() => {
      throw new QmpUnavailableError(
        path,
        "closed",
        "connection closed before the greeting",
      );
    });
    closedEarly.catch(() => {}); // Only matters while racing below.
    try {
      await Promise.race([greeting, timeout, closedEarly]);
      await Promise.race([
        client.execute("qmp_capabilities", undefined, {
          timeoutMs: Infinity,
        }),
        timeout,
      ]);
    } catch (error) {
      client.close();
      throw error;
    } finally {
      cancelTimer?.();
    }
    return client;
  }

  /** The socket path this client is connected to. */
  get path(): string {
    return this.#path;
  }

  /** The greeting QEMU sent (version and capabilities). */
  get greeting(): QmpGreeting {
    return this.#greeting!;
  }

  /**
   * Resolves when the connection has ended, whether QEMU closed it (it exited
   * after `quit` or a guest shutdown) or {@linkcode close} was called.
   */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Whether the connection has ended. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Runs a QMP command and returns the `return` member of QEMU's reply.
   *
   * @throws {QmpCommandError} when QEMU replies with an error.
   * @throws {QmpUnavailableError} when the connection is or gets closed, or
   *   no reply arrives in time.
   */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: QmpExecuteOptions = {},
  ): Promise<T> {
    if (this.#isClosed) {
      return Promise.reject(
        new QmpUnavailableError(this.#path, "closed", "connection is closed"),
      );
    }
    const id = `vmtools-${this.#nextId++}`;
    const message: Message = { execute: command, id };
    if (args !== undefined) message.arguments = args;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXECUTE_TIMEOUT_MS;

    return new Promise<T>((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      const settle = () => {
        cancelTimer?.();
        this.#pending.delete(id);
      };
      this.#pending.set(id, {
        command,
        resolve: (value) => {
          settle();
          resolve(value as T);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      if (Number.isFinite(timeoutMs)) {
        cancelTimer = after(timeoutMs, () => {
          this.#pending.get(id)?.reject(
            new QmpUnavailableError(
              this.#path,
              "timeout",
              `no reply to ${command} within ${timeoutMs} ms`,
            ),
          );
        });
      }
      this.#send(message).catch((error) => {
        this.#pending.get(id)?.reject(
          new QmpUnavailableError(
            this.#path,
            "closed",
            `cannot send ${command}`,
            { cause: error },
          ),
        );
      });
    });
  }

  /**
   * Runs a classic monitor command line (`info status`, `sendkey ctrl-alt-f1`…)
   * through `human-monitor-command` and returns its text output.
   */
  hmp(commandLine: string): Promise<string> {
    return this.execute<string>("human-monitor-command", {
      "command-line": commandLine,
    });
  }

  /**
   * Waits for the next event called `name` and removes it from the buffer.
   * Events that arrived before this call are buffered, so an event that has
   * already happened is returned at once.
   *
   * @returns the event, or `undefined` on timeout or when the connection
   *   closed without such an event.
   */
  waitEvent(name: string, timeoutMs: number): Promise<QmpEvent | undefined> {
    const index = this.#events.findIndex((event) => event.event === name);
    if (index >= 0) {
      return Promise.resolve(this.#events.splice(index, 1)[0]);
    }
    if (this.#isClosed) return Promise.resolve(undefined);

    return new Promise((resolve) => {
      let cancelTimer: (() => void) | undefined;
      const waiter: EventWaiter = {
        name,
        resolve: (event) => {
          cancelTimer?.();
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve(event);
        },
      };
      this.#waiters.push(waiter);
      if (Number.isFinite(timeoutMs)) {
        cancelTimer = after(timeoutMs, () => waiter.resolve(undefined));
      }
    });
  }

  /** Closes the connection; pending commands fail with {@linkcode QmpUnavailableError}. */
  close(): void {
    if (this.#isClosed) return;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the read loop.
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const pending of [...this.#pending.values()]) {
      pending.reject(
        new QmpUnavailableError(
          this.#path,
          "closed",
          `connection closed while waiting for ${pending.command}`,
        ),
      );
    }
    for (const waiter of [...this.#waiters]) waiter.resolve(undefined);
    this.#markClosed();
  }

  async #send(message: Message): Promise<void> {
    const bytes = this.#encoder.encode(JSON.stringify(message) + "\n");
    // Chained so that two concurrent commands never interleave partial writes.
    const write = this.#writeChain.then(async () => {
      let offset = 0;
      while (offset < bytes.length) {
        offset += await this.#conn.write(bytes.subarray(offset));
      }
    });
    this.#writeChain = write.catch(() => {});
    await write;
  }

  async #readLoop(): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(64 * 1024);
    let text = "";
    try {
      while (true) {
        const count = await this.#conn.read(buffer);
        if (count === null) break;
        text += decoder.decode(buffer.subarray(0, count), { stream: true });
        let newline: number;
        while ((newline = text.indexOf("\n")) >= 0) {
          const line = text.slice(0, newline).trim();
          text = text.slice(newline + 1);
          if (line !== "") this.#dispatch(line);
        }
      }
    } catch {
      // A read fails once close() has closed the resource; either way we are done.
    }
    try {
      this.#conn.close();
    } catch {
      // Already closed by close().
    }
    this.#finish();
  }

  #dispatch(line: string): void {
    let message: Message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not JSON: nothing a caller could act on.
    }
    if ("QMP" in message) {
      this.#greeting = message.QMP as QmpGreeting;
      this.#onGreeting?.(this.#greeting);
      return;
    }
    if (typeof message.event === "string") {
      this.#deliverEvent(message as unknown as QmpEvent);
      return;
    }
    if (!("return" in message) && !("error" in message)) return;
    const pending = this.#takePending(message.id);
    if (!pending) return;
    if ("error" in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(
        new QmpCommandError(
          pending.command,
          error.class ?? "GenericError",
          error.desc ?? "unknown error",
        ),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  /** Finds the request a reply belongs to; QEMU omits the id when it could not parse the request. */
  #takePending(id: unknown): Pending | undefined {
    if (typeof id === "string") return this.#pending.get(id);
    return this.#pending.values().next().value;
  }

  #deliverEvent(event: QmpEvent): void {
    const waiter = this.#waiters.find((w) => w.name === event.event);
    if (waiter) {
      waiter.resolve(event);
      return;
    }
    this.#events.push(event);
    if (this.#events.length > MAX_BUFFERED_EVENTS) this.#events.shift();
  }
}

function connectError(path: string, error: unknown): Error {
  if (error instanceof Deno.errors.NotCapable) return error;
  if (error instanceof Deno.errors.NotFound) {
    return new QmpUnavailableError(path, "missing", "no such socket", {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new QmpUnavailableError(
      path,
      "refused",
      "connection refused (stale socket: QEMU is not running)",
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new QmpUnavailableError(path, "error", detail, { cause: error });
}
