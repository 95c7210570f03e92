/**
 * A vmtools command in a real terminal: a tmux session of its own (keys in,
 * screen out), for what only a terminal shows — questions with arrow keys,
 * progress lines redrawn in place.
 * @module
 */
import { type Sandbox, VMTOOLS_COMMAND } from "./vmtools.ts";
import { exists } from "../../lib/fs.ts";

let sessions = 0;

/** A vmtools command in a tmux terminal of its own (stdout to a file: it must stay empty). */
export class Terminal {
  readonly #socket: string;
  readonly #rc: string;
  /** The file the command's stdout goes to. */
  readonly stdout: string;

  private constructor(readonly sb: Sandbox) {
    const n = ++sessions;
    this.#socket = `${sb.dir}/tmux-${n}.sock`;
    this.#rc = `${sb.dir}/rc-${n}`;
    this.stdout = `${sb.dir}/stdout-${n}`;
  }

  /** Starts `command args…` in the sandbox's work directory. */
  static start(sb: Sandbox, command: string, ...args: string[]): Promise<Terminal> {
    return Terminal.startWith(sb, {}, command, ...args);
  }

  /**
   * Like {@linkcode start}, with the sandbox's environment changed by
   * `env` (a variable given `undefined` is left out).
   */
  static async startWith(
    sb: Sandbox,
    opts: { env?: Record<string, string | undefined> },
    command: string,
    ...args: string[]
  ): Promise<Terminal> {
    const t = new Terminal(sb);
    const env = Object.entries({ ...sb.env, VMTOOLS_ARGV0: command, ...opts.env })
      .filter((e): e is [string, string] => e[1] !== undefined);
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const script = [
      `cd ${q(sb.work)} || exit`,
      `env -i TERM="$TERM" ${env.map(([k, v]) => `${k}=${q(v)}`).join(" ")} ` +
      `${[...VMTOOLS_COMMAND, ...args].map(q).join(" ")} >${q(t.stdout)}`,
      `echo $? >${q(t.#rc)}.new && mv ${q(t.#rc)}.new ${q(t.#rc)}`,
      // Keep the pane (and its screen) until the test is done with it.
      "exec sleep 600",
    ].join("\n");
    const file = sb.write(`term-${basename(t.#rc)}.sh`, script + "\n");
    await t.#tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", `sh ${q(file)}`);
    return t;
  }

  async #tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-S", this.#socket, "-f", "/dev/null", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (out.code !== 0) throw new Error(`tmux ${args[0]}: ${dec.decode(out.stderr)}`);
    return dec.decode(out.stdout);
  }

  /** What the terminal shows; with `escapes`, with its colours and attributes as escape sequences. */
  screen(escapes = false): Promise<string> {
    return this.#tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", "t");
  }

  /** Sends keys by tmux name (`Enter`, `Down`, `Space`, `C-d`…). */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", ...keys);
  }

  /** Types `text` as it is. */
  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Waits until the screen matches `pattern`; fails showing the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 30000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The command's exit status, once it has ended. */
  async exitCode(timeoutMs = 30000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!exists(this.#rc)) {
      if (Date.now() > deadline) throw new Error(`the command did not end:\n${await this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Number(Deno.readTextFileSync(this.#rc).trim());
  }

  /** Ends the session. */
  async close(): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
