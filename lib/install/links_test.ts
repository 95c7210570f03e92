import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { applyLinks, planLinks } from "./links.ts";

const NAMES = ["vmup", "vmps", "vmrndmac"];

/** A temporary directory holding an "executable" in bin/, removed after `fn`. */
function withTree(fn: (root: string, exe: string) => void): void {
  const root = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "vmtools-links-" }));
  try {
    Deno.mkdirSync(`${root}/bin`);
    Deno.writeTextFileSync(`${root}/bin/vmtools`, "#!/bin/sh\n");
    fn(root, `${root}/bin/vmtools`);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => {
    const path = `${dir}/${e.name}`;
    return e.isSymlink ? `${e.name} -> ${Deno.readLinkSync(path)}` : e.name;
  }).sort();
}

Deno.test("links in a new directory lead to the executable by its absolute path; again, nothing changes", () => {
  withTree((root, exe) => {
    const plan = planLinks(`${root}/a/b`, exe, NAMES, false);
    equal(plan.makeDir, true);
    applyLinks(plan);
    deepEqual(listing(`${root}/a/b`), NAMES.map((n) => `${n} -> ${exe}`).sort());
    for (const n of NAMES) equal(Deno.realPathSync(`${root}/a/b/${n}`), exe);
    const again = planLinks(`${root}/a/b`, exe, NAMES, false);
    deepEqual(again.steps.map((s) => s.action), ["keep", "keep", "keep"]);
    applyLinks(again);
    deepEqual(listing(`${root}/a/b`), NAMES.map((n) => `${n} -> ${exe}`).sort());
  });
});

Deno.test("beside the executable the links hold its name; other links that lead to it are kept", () => {
  withTree((root, exe) => {
    Deno.symlinkSync(`${root}/bin/vmtools`, `${root}/bin/vmps`); // absolute, as another tool made it
    Deno.symlinkSync("bin", `${root}/alias`);
    const plan = planLinks(`${root}/alias`, exe, NAMES, false); // the same directory, by a link
    equal(plan.text, "vmtools");
    deepEqual(plan.steps.map((s) => s.action), ["make", "keep", "make"]);
    applyLinks(plan);
    deepEqual(listing(`${root}/bin`), [
      "vmps -> " + exe,
      "vmrndmac -> vmtools",
      "vmtools",
      "vmup -> vmtools",
    ]);
  });
});

Deno.test("a name taken by something else refuses the lot in one line; --force replaces it", () => {
  withTree((root, exe) => {
    const dir = `${root}/links`;
    Deno.mkdirSync(dir);
    Deno.writeTextFileSync(`${dir}/vmup`, "mine");
    Deno.symlinkSync("/nowhere/vmps", `${dir}/vmps`);
    const before = listing(dir);
    throws(
      () => planLinks(dir, exe, NAMES, false),
      (e) =>
        e instanceof VmError &&
        e.message === `nothing linked in ${dir}: in the way: vmup (a file), vmps (a link to /nowhere/vmps) ` +
            "(--force replaces them)",
    );
    deepEqual(listing(dir), before, "nothing changed");
    const plan = planLinks(dir, exe, NAMES, true);
    deepEqual(plan.steps.map((s) => s.action), ["replace", "replace", "make"]);
    applyLinks(plan);
    deepEqual(listing(dir), NAMES.map((n) => `${n} -> ${exe}`).sort());
  });
});

Deno.test("a directory of a command's name is never replaced; DIR must be a directory", () => {
  withTree((root, exe) => {
    Deno.mkdirSync(`${root}/links/vmps`, { recursive: true });
    for (const force of [false, true]) {
      throws(() => planLinks(`${root}/links`, exe, NAMES, force), /never replaced: vmps \(a directory\)$/);
    }
    deepEqual(listing(`${root}/links`), ["vmps"]);
    throws(() => planLinks(exe, exe, NAMES, false), new RegExp(`^VmError: ${exe}: not a directory$`));
  });
});

Deno.test("the executable itself under a command's name is kept", () => {
  withTree((root) => {
    Deno.writeTextFileSync(`${root}/bin/vmup`, "#!/bin/sh\n");
    const plan = planLinks(`${root}/bin`, `${root}/bin/vmup`, NAMES, true);
    deepEqual(plan.steps.map((s) => s.action), ["keep", "make", "make"]);
    equal(plan.text, "vmup");
  });
});

Deno.test("an error half way undoes what was made and puts back what was replaced", () => {
  withTree((root, exe) => {
    const dir = `${root}/links`;
    Deno.mkdirSync(dir);
    Deno.symlinkSync("/old/vmup", `${dir}/vmup`);
    const plan = planLinks(dir, exe, ["vmup", "vmps", "vmrndmac"], true);
    // Something takes the last name between the plan and the change.
    Deno.writeTextFileSync(`${dir}/vmrndmac`, "raced");
    throws(() => applyLinks(plan), Deno.errors.AlreadyExists);
    deepEqual(listing(dir), ["vmrndmac", "vmup -> /old/vmup"]);
    ok(![...Deno.readDirSync(dir)].some((e) => e.name.startsWith(".")), "no temporary link left");
  });
});
