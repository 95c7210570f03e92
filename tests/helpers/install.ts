/**
 * Installing the program as a user does, for tests of the installed
 * commands: `scripts/install PREFIX`.
 * @module
 */
import { equal } from "node:assert/strict";
import { PROJECT_ROOT } from "./vmtools.ts";

/** Runs `scripts/install prefix`, failing the test with its messages if it fails; returns its stdout. */
export async function installInto(prefix: string): Promise<string> {
  const inst = await new Deno.Command("bash", {
    args: [`${PROJECT_ROOT}/scripts/install`, prefix],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  equal(inst.code, 0, decoder.decode(inst.stderr));
  return decoder.decode(inst.stdout);
}
