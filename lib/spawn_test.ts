import { equal, match } from "node:assert/strict";
import { VmError } from "./errors.ts";
import { spawn, spawnError } from "./spawn.ts";

Deno.test("a program missing from PATH is named, with its Debian package when known", () => {
  let caught: unknown;
  try {
    spawn("vmtools-no-such-program", []);
  } catch (e) {
    caught = e;
  }
  match(String((caught as VmError).message), /^vmtools-no-such-program: not found in PATH \(install it\)$/);
  const missing = spawnError(
    "genisoimage",
    new Deno.errors.NotFound("No such file or directory (os error 2)"),
  );
  equal(missing.message, "genisoimage: not found in PATH (install it: Debian package genisoimage)");
});

Deno.test("a program outside the permission set is refused in vmtools' words", () => {
  const refused = spawnError(
    "xorriso",
    new Deno.errors.NotCapable('Requires run access to "xorriso", run again with the --allow-run flag'),
  );
  equal(refused.message, "vmtools may not run xorriso (outside its permission set; see vmtools(7) SECURITY)");
  const ld = spawnError(
    "qemu-img",
    new Deno.errors.NotCapable(
      "Requires --allow-run permissions to spawn subprocess with LD_PRELOAD environment variable. Alternatively, spawn with the environment variable unset.",
    ),
  );
  equal(
    ld.message,
    "qemu-img: vmtools may not pass LD_PRELOAD to a program it runs (outside its permission set; see vmtools(7) SECURITY)",
  );
});
