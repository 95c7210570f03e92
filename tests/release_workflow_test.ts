/**
 * The release workflow cannot run here (no GitHub runner, no Deno download
 * server): these checks keep it in step with what it calls and what the
 * README promises. Its YAML syntax was checked by hand (see its header).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { PROJECT_ROOT } from "./helpers/vmtools.ts";

const workflow = Deno.readTextFileSync(`${PROJECT_ROOT}/.github/workflows/release.yml`);

Deno.test("release workflow: every action pinned by commit, on tags v*", () => {
  const uses = [...workflow.matchAll(/^\s*(?:- )?uses: (\S+)/gm)].map((m) => m[1]);
  ok(uses.length > 0);
  for (const u of uses) ok(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/.test(u), `${u} is not pinned by a commit`);
  ok(/^on:\n {2}push:\n {4}tags: \["v\*"\]$/m.test(workflow));
  ok(/^permissions:\n {2}contents: read$/m.test(workflow), "read-only but for the publishing job");
});

Deno.test("release workflow: the targets scripts/compile builds, under the names the README gives", () => {
  const builds = [...workflow.matchAll(/scripts\/compile --target (\S+) dist\/(\S+)/g)].map((
    m,
  ) => [m[1], m[2]]);
  deepEqual(builds, [
    ["x86_64-unknown-linux-gnu", "vmtools-x86_64-linux"],
    ["aarch64-unknown-linux-gnu", "vmtools-aarch64-linux"],
  ]);
  const compile = Deno.readTextFileSync(`${PROJECT_ROOT}/scripts/compile`);
  const readme = Deno.readTextFileSync(`${PROJECT_ROOT}/README.md`);
  for (const [target, name] of builds) {
    ok(compile.includes(`\n${target}) elf_machine=`), `scripts/compile builds ${target}`);
    ok(readme.includes(`\`${name}\``), `README names ${name}`);
  }
  equal(workflow.match(/sha256sum vmtools-x86_64-linux vmtools-aarch64-linux >SHA256SUMS/g)?.length, 1);
  ok(readme.includes("sha256sum -c --ignore-missing SHA256SUMS"));
  ok(readme.includes("vmtools --install-links ~/.local/bin"));
});
