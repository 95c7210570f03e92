/**
 * Keeps "a doc comment on every export": `deno doc --lint` over the program's
 * sources (every `.ts` file under lib/, modules/ and commands/ but the unit
 * tests) must find nothing to report. It also refuses an exported function
 * whose signature names a type that is not exported.
 */
import { equal } from "node:assert/strict";
import { PROJECT_ROOT } from "./helpers/vmtools.ts";

/** The `.ts` files below `dir` (relative to the project root), unit tests left out. */
function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(`${PROJECT_ROOT}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...sources(path));
    else if (entry.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts")) found.push(path);
  }
  return found;
}

Deno.test("deno doc --lint: every export of lib/, modules/ and commands/ is documented", async () => {
  const files = ["lib", "modules", "commands"].flatMap(sources).sort();
  const { code, stdout, stderr } = await new Deno.Command(`${PROJECT_ROOT}/.tools/bin/deno`, {
    args: ["doc", "--lint", ...files],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  equal(code, 0, `deno doc --lint over ${files.length} files:\n${decode(stdout)}${decode(stderr)}`);
});
