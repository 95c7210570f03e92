import { equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { runningExecutable } from "./executable.ts";

Deno.test("a compiled vmtools links to the file Deno runs from", () => {
  equal(
    runningExecutable({ execPath: "/opt/vmtools-x86_64-linux", argv0: "vmup", cwd: "/" }),
    "/opt/vmtools-x86_64-linux",
  );
});

Deno.test("the launcher links to itself as the shell ran it ($0), links resolved", () => {
  const root = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "vmtools-exe-" }));
  try {
    Deno.mkdirSync(`${root}/bin`);
    Deno.writeTextFileSync(`${root}/bin/vmtools`, "#!/bin/bash\n");
    Deno.symlinkSync("vmtools", `${root}/bin/vmup`);
    const deno = `${root}/lib/vmtools/deno`;
    equal(runningExecutable({ execPath: deno, argv0: `${root}/bin/vmup`, cwd: "/" }), `${root}/bin/vmtools`);
    equal(runningExecutable({ execPath: deno, argv0: "./bin/vmtools", cwd: root }), `${root}/bin/vmtools`);
    throws(
      () => runningExecutable({ execPath: deno, argv0: "./bin", cwd: root }),
      /the launcher is not a file/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("under deno run there is nothing to link to", () => {
  for (const argv0 of [undefined, "vmtools"]) {
    throws(
      () => runningExecutable({ execPath: "/usr/bin/deno", argv0, cwd: "/" }),
      (e) => e instanceof VmError && /runs under 'deno run'/.test(e.message),
    );
  }
});
