import { equal, match } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { type Command, processIO, runCommand } from "./command.ts";

/** Runs a command whose `exec` does `body`; returns its exit code and what it wrote to stderr. */
async function failWith(body: () => unknown): Promise<{ code: number; err: string }> {
  const cmd: Command = {
    name: "vmtest",
    summary: "",
    synopsis: [""],
    description: "",
    options: [],
    operands: "none",
    examples: [],
    exec: async () => {
      await body();
      return 0;
    },
  };
  let err = "";
  const code = await runCommand(cmd, [], {
    ...processIO("vmtest"),
    output: { out: () => {}, err: (t) => err += t, errIsTerminal: false, inIsTerminal: false },
  });
  return { code, err };
}

Deno.test("a file system error a user caused is one line, exit 1, no internal error", async () => {
  const file = Deno.makeTempFileSync();
  try {
    const r = await failWith(() => Deno.readDirSync(file));
    equal(r.code, 1);
    equal(r.err, `vmtest: readdir '${file}': Not a directory\n`);
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("a permission refusal says what vmtools may not do", async () => {
  const r = await failWith(() => {
    throw new Deno.errors.NotCapable(
      'Requires all access to "/proc/1/environ", run again with the --allow-all flag',
    );
  });
  equal(r.code, 1);
  equal(
    r.err,
    "vmtest: vmtools may not access /proc/1/environ (outside its permission set; see vmtools(7) SECURITY)\n",
  );
});

Deno.test("a VmError quoting Deno's refusal loses Deno's advice", async () => {
  const r = await failWith(() => {
    throw new VmError(
      '/dev/sdz: cannot open: Requires all access to "/dev/sdz", run again with the --allow-all flag',
    );
  });
  equal(
    r.err,
    "vmtest: /dev/sdz: cannot open: vmtools may not access /dev/sdz (outside its permission set; see vmtools(7) SECURITY)\n",
  );
});

Deno.test("a bug still prints internal error and its stack", async () => {
  const r = await failWith(() => {
    throw new TypeError("x is undefined");
  });
  equal(r.code, 1);
  match(r.err, /^vmtest: internal error: TypeError: x is undefined\n +at /);
});
