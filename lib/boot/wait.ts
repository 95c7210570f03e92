/**
 * `vmup --wait`: after starting VMs, waiting until each guest's serial
 * console has printed a line matching a pattern, all at once.
 * @module
 */
import { VmError } from "../errors.ts";
import { isAlive } from "../running/alive.ts";
import { LineMatcher, showPattern } from "../serial/expect.ts";
import { waitInLog } from "../serial/wait.ts";
import type { Logger } from "../ui/log.ts";
import type { UpResult } from "./up.ts";

/**
 * Waits for every running VM among `results` to print a line matching
 * `pattern` in its serial log (counting from its start, so a VM that was
 * already running counts what it printed since). Each failure (time up, VM
 * stopped, no log) is printed; returns how many failed.
 */
export async function waitForGuests(
  results: readonly UpResult[],
  pattern: RegExp,
  timeoutMs: number | undefined,
  log: Logger,
): Promise<number> {
  const outcomes = await Promise.all(results.map(async (r) => {
    // Not started (-n), or ran in the foreground; under libvirt elsewhere, its pid is unknown.
    if (r.pid === undefined && !r.libvirt) return true;
    try {
      if (!r.log) throw new VmError(`${r.name}: no serial log to wait on`);
      log.step(`${r.name}: waiting for a line matching ${showPattern(pattern)} in ${r.log}`);
      const line = await waitInLog(r.log, new LineMatcher(pattern), {
        label: r.name,
        timeoutMs,
        running: () => isAlive(r.files),
      });
      log.info(`${r.name}: ready: ${line.trim()}`);
      return true;
    } catch (e) {
      if (!(e instanceof VmError)) throw e;
      log.error(e.message);
      return false;
    }
  }));
  return outcomes.filter((ok) => !ok).length;
}
