/**
 * Starting QEMU: daemonized (QEMU forks and its parent exits once the VM is
 * set up, so errors are still reported here) or in the foreground with the
 * monitor on the terminal.
 * @module
 */
import { VmError } from "../errors.ts";
import { spawn } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";
import type { BuiltCommand } from "./build.ts";
import { removeQuietly } from "../remove.ts";
import { after } from "../timer.ts";

/** Quotes an argument for display as a shell word. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command as one shell-readable line. */
export function formatCommand(cmd: BuiltCommand): string {
  return [cmd.binary, ...cmd.args].map(shellQuote).join(" ");
}

/** Runs a daemonizing QEMU and waits until its parent returns. */
export async function launchDaemon(
  cmd: BuiltCommand,
  log: Logger,
): Promise<void> {
  log.at(5, formatCommand(cmd));
  const child = spawn(cmd.binary, cmd.args, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const out = await child.output();
  for (const f of cmd.transient) removeQuietly(f);
  if (out.code !== 0) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new VmError(
      `QEMU failed to start (exit ${out.code}): ${err || "no message"}`,
    );
  }
  // QEMU announces the VNC server itself; vmup prints the address it really got.
  const warnings = new TextDecoder().decode(out.stderr).replace(
    /^VNC server running on .*$/m,
    "",
  ).trim();
  if (warnings) log.at(2, warnings);
}

/**
 * Runs QEMU in the foreground on this terminal. Ctrl-C goes to QEMU (same
 * process group), which stops the VM; vmtools only waits for it.
 */
export async function launchForeground(
  cmd: BuiltCommand,
  log: Logger,
): Promise<number> {
  log.at(5, formatCommand(cmd));
  const ignore = () => {};
  Deno.addSignalListener("SIGINT", ignore);
  try {
    const child = spawn(cmd.binary, cmd.args, {
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    });
    after(3000, () => {
      for (const f of cmd.transient) removeQuietly(f);
    });
    const status = await child.status;
    for (const f of cmd.transient) removeQuietly(f);
    return status.code;
  } finally {
    Deno.removeSignalListener("SIGINT", ignore);
  }
}
