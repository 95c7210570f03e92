/**
 * Running classic monitor (HMP) command lines through a VM's QMP socket.
 *
 * QEMU serves one QMP client at a time: while one is connected, others wait
 * for the greeting. So each command line gets its own short connection, and
 * an open `vmmon` session never blocks `vmdown`, `vmps` or `vminfo`. Nothing
 * is lost by this: QEMU runs every `human-monitor-command` in a fresh
 * monitor anyway.
 * @module
 */
import { VmError } from "../errors.ts";
import { QmpClient, QmpCommandError, QmpUnavailableError } from "../qmp/client.ts";

/** What running one command line gave. */
export interface HmpReply {
  /** The monitor's text output, with `\n` line endings. */
  output: string;
  /** QEMU has gone: the command was `quit`, or QEMU closed the connection. */
  ended: boolean;
  /** QEMU refused the command line; {@linkcode output} says why. */
  refused: boolean;
}

/**
 * Whether the monitor's text is a refusal. Through QMP an HMP command that
 * QEMU refuses still "succeeds": only its text tells — `unknown command`,
 * `Error: …`, or a usage hint `Try "help …" for more information`.
 */
export function isRefusal(output: string): boolean {
  return /^unknown command: /.test(output) || /^Error: /m.test(output) ||
    /^Try "help[^"]*" for more information$/m.test(output);
}

/** Whether a command line asks QEMU to exit (`quit` or its alias `q`). */
export function isQuit(line: string): boolean {
  const word = line.trim().split(/\s+/)[0];
  return word === "quit" || word === "q";
}

/** Turns the monitor's CR LF line endings into LF. */
export function normalizeOutput(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/\r/g, "\n");
}

/** What the monitor loops run command lines through: a QMP socket ({@linkcode HmpRunner}), or libvirt. */
export interface MonitorRunner {
  /** Names the VM in messages. */
  readonly label: string;
  /** Reaches the monitor once, so a dead VM is reported before any prompt; returns QEMU's version. */
  check(): Promise<string>;
  /** Runs one command line (see {@linkcode HmpRunner.run}). */
  run(line: string): Promise<HmpReply>;
  /** Lists the monitor's commands, or the subcommands of `subcommandsOf` (for completion); empty on any failure. */
  commandNames(subcommandsOf?: string): Promise<string[]>;
}

/** Runs HMP command lines on the QMP socket `socket`; `label` names the VM in messages. */
export class HmpRunner implements MonitorRunner {
  /** `connectTimeoutMs` bounds each connection to the socket (one per command line), in milliseconds. */
  constructor(
    readonly socket: string,
    readonly label: string,
    readonly connectTimeoutMs = 5000,
  ) {}

  /** Connects and disconnects once, so a dead VM is reported before any prompt. */
  async check(): Promise<string> {
    const client = await this.#connect();
    const v = client.greeting?.version?.qemu;
    client.close();
    return v ? `${v.major}.${v.minor}.${v.micro}` : "";
  }

  /**
   * Runs one command line. Throws a {@linkcode VmError} naming the VM when
   * the monitor cannot be reached, and lets {@linkcode QmpCommandError}
   * through when QEMU refuses the command.
   */
  async run(line: string): Promise<HmpReply> {
    const client = await this.#connect();
    try {
      const output = normalizeOutput(await client.hmp(line));
      return { output, ended: isQuit(line), refused: isRefusal(output) };
    } catch (e) {
      if (e instanceof QmpUnavailableError && e.reason === "closed") {
        if (isQuit(line)) return { output: "", ended: true, refused: false };
        throw new VmError(
          `${this.label}: QEMU closed the monitor connection during '${line}' (the VM has stopped)`,
        );
      }
      if (e instanceof QmpCommandError) throw e;
      throw this.#unavailable(e);
    } finally {
      client.close();
    }
  }

  /** Lists the monitor's commands (for completion); empty on any failure. */
  async commandNames(subcommandsOf = ""): Promise<string[]> {
    try {
      const { output } = await this.run(subcommandsOf || "help");
      return parseHelp(output, subcommandsOf);
    } catch {
      return [];
    }
  }

  async #connect(): Promise<QmpClient> {
    try {
      return await QmpClient.connect(this.socket, {
        timeoutMs: this.connectTimeoutMs,
      });
    } catch (e) {
      throw this.#unavailable(e);
    }
  }

  #unavailable(e: unknown): Error {
    if (!(e instanceof QmpUnavailableError)) return e as Error;
    switch (e.reason) {
      case "missing":
        return new VmError(
          `${this.label}: not running (no monitor socket ${this.socket})`,
        );
      case "refused":
        return new VmError(
          `${this.label}: not running (nothing listens on ${this.socket})`,
        );
      case "timeout":
        return new VmError(
          `${this.label}: the monitor ${this.socket} does not answer (another program may hold it)`,
        );
      default:
        return new VmError(`${this.label}: ${e.message}`);
    }
  }
}

/**
 * Reads command names from `help` output (`name|alias args -- text`), or
 * with `prefix` (e.g. `info`) the subcommand names from `info` output
 * (`info name args -- text`).
 */
export function parseHelp(output: string, prefix = ""): string[] {
  const names = new Set<string>();
  for (const raw of output.split("\n")) {
    if (/^\s/.test(raw)) continue; // continuation of a long description
    let line = raw.trim();
    if (prefix) {
      if (!line.startsWith(prefix + " ")) continue;
      line = line.slice(prefix.length + 1).trim();
    }
    const m = /^([a-z][a-z0-9_-]*)((?:\|[a-z0-9_-]+)*)/i.exec(line);
    if (!m) continue;
    names.add(m[1]);
    for (const alias of m[2].split("|").filter(Boolean)) names.add(alias);
  }
  return [...names].sort();
}
