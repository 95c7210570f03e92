/**
 * Talking to libvirt: every call goes through `virsh -c URI …`, the one
 * program of libvirt's that vmtools may run. Its messages are read in the
 * C locale; a missing virsh, an unreachable URI and a refused request each
 * become one line naming the URI. A URI that would make libvirt run a
 * program is refused before virsh runs: a URI can come from a VM home's
 * record, and a home may come from someone else.
 * @module
 */
import { VmError } from "../errors.ts";
import { spawn } from "../spawn.ts";
import { after } from "../timer.ts";

/** Where vmup runs a VM under libvirt when no URI is given: the user's own session, or root's system daemon. */
export function defaultUri(): string {
  return Deno.uid() === 0 ? "qemu:///system" : "qemu:///session";
}

/** Whether a URI names this machine (no host part): its QEMU processes are ours to see. */
export function isLocalUri(uri: string): boolean {
  return /^[a-z0-9+.-]+:\/\/\//i.test(uri);
}

/** Query parameters naming a program libvirt runs: the ssh and ext transports' `command`, ssh's remote `netcat`. */
const RUNS_PROGRAM = new Set(["command", "netcat"]);

/**
 * Throws a `VmError` when `uri` would make libvirt run a program of the
 * URI's choosing (the `ext` transport, `command=` or `netcat=`); returns it.
 */
export function checkUri(uri: string): string {
  const transport = /^[^:/?]*\+([^:/?]*):/.exec(uri)?.[1].toLowerCase();
  const query = uri.split("#")[0].split("?").slice(1).join("?");
  // libvirt decodes parameter names and compares them without regard to case.
  const names = query.split(/[&;]/).map((p) => decodeOr(p.split("=")[0]).toLowerCase());
  const param = names.find((n) => RUNS_PROGRAM.has(n));
  const what = transport === "ext" ? "its ext transport" : param ? `its ${param}=` : undefined;
  if (what) throw new VmError(`libvirt URI ${uri}: ${what} runs a program; vmtools does not use such URIs`);
  return uri;
}

function decodeOr(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What one virsh run gave. */
export interface VirshResult {
  /** virsh's exit status: 0 when the request succeeded. */
  code: number;
  /** What it printed on stdout (run with `-q`: without its informational messages). */
  stdout: string;
  /** What it printed on stderr, in the C locale: its errors, read by {@linkcode virshError}. */
  stderr: string;
}

const ENV = { LC_ALL: "C", LANG: "C" };

/**
 * How long one virsh run may take, in milliseconds. Every request vmtools
 * makes (even creating a domain) answers within seconds; a daemon that
 * accepts the connection and then never answers would otherwise hang vmtools.
 */
export const VIRSH_TIMEOUT_MS = 120_000;

/**
 * Runs `virsh -c uri args…`, `input` on its stdin. Throws only when virsh
 * cannot be run at all. A virsh still running after `timeoutMs` is killed
 * and its result is a failure saying libvirt did not answer.
 */
export async function virsh(
  uri: string,
  args: string[],
  input?: string,
  timeoutMs = VIRSH_TIMEOUT_MS,
): Promise<VirshResult> {
  const child = spawn("virsh", ["-q", "-c", checkUri(uri), ...args], {
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: ENV,
  });
  let timedOut = false;
  const cancel = after(timeoutMs, () => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* it has just exited */ }
  });
  try {
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const out = await child.output();
    const dec = new TextDecoder();
    const stderr = dec.decode(out.stderr) +
      (timedOut ? `error: no answer within ${timeoutMs / 1000} s to virsh ${args[0] ?? ""}\n` : "");
    return { code: timedOut ? 1 : out.code, stdout: dec.decode(out.stdout), stderr };
  } finally {
    cancel();
  }
}

/** Like {@linkcode virsh}, but a failure is a {@linkcode VmError} (see {@linkcode virshError}); returns stdout. */
export async function virshOk(uri: string, args: string[], input?: string): Promise<string> {
  const r = await virsh(uri, args, input);
  if (r.code !== 0) throw virshError(uri, r.stderr);
  return r.stdout;
}

/** Whether virsh said it could not reach libvirt at all (rather than refusing a request). */
export function unreachable(stderr: string): boolean {
  return /failed to connect to the hypervisor/.test(stderr);
}

/** One line from what virsh printed on failure: its last error, naming the URI. */
export function virshError(uri: string, stderr: string): VmError {
  const errors = stderr.split("\n").map((l) => l.replace(/^error: /, "").trim()).filter(Boolean);
  const reason = errors.at(-1) ?? "virsh failed";
  if (unreachable(stderr)) return new VmError(`libvirt at ${uri} cannot be reached: ${reason}`);
  return new VmError(`libvirt (${uri}): ${reason}`);
}
