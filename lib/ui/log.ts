/**
 * Messages for the user, on stderr, filtered by verbosity
 * (`cfg_ui_verbosity`, moved by `-q`/`-v`). Levels: 0 errors and essentials,
 * 1 what was created or started, 2 progress, 3 main steps, 4 details,
 * 5 every external command.
 * @module
 */

/** Where output goes; commands receive one so tests can capture it. */
export interface Output {
  /** Writes data (stdout). */
  out(text: string): void;
  /** Writes a message (stderr). */
  err(text: string): void;
  /** Whether stderr is a terminal (progress is shown only there). */
  errIsTerminal: boolean;
  /** Whether stdin is a terminal (questions are asked interactively). */
  inIsTerminal: boolean;
}

const encoder = new TextEncoder();

/** The process's real stdout/stderr. */
export const processOutput: Output = {
  out: (t) => void Deno.stdout.writeSync(encoder.encode(t)),
  err: (t) => void Deno.stderr.writeSync(encoder.encode(t)),
  get errIsTerminal() {
    return Deno.stderr.isTerminal();
  },
  get inIsTerminal() {
    return Deno.stdin.isTerminal();
  },
};

/** A logger bound to a program name and a verbosity level. */
export class Logger {
  /**
   * `prog` prefixes errors and warnings; messages of a level up to
   * `verbosity` are printed (`cfg_ui_verbosity` moved by `-q`/`-v`; below 0
   * not even warnings); `output` takes them, and a command's data.
   */
  constructor(
    readonly prog: string,
    public verbosity: number,
    readonly output: Output = processOutput,
  ) {}

  /** Prints `msg` when the verbosity is at least `level`. */
  at(level: number, msg: string): void {
    if (this.verbosity >= level) this.output.err(`${msg}\n`);
  }

  /** An error: always printed, prefixed by the program name. */
  error(msg: string): void {
    this.output.err(`${this.prog}: ${msg}\n`);
  }

  /** A warning: printed unless fully quiet. */
  warn(msg: string): void {
    if (this.verbosity >= 0) this.output.err(`${this.prog}: warning: ${msg}\n`);
  }

  /** Level 1: what was created or started. */
  info(msg: string): void {
    this.at(1, msg);
  }

  /** Level 3: each main step. */
  step(msg: string): void {
    this.at(3, msg);
  }

  /** Level 4: details. */
  debug(msg: string): void {
    this.at(4, msg);
  }
}
