import { equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { readSettingsFileIfAny } from "./file.ts";
import { MAX_SETTINGS_BYTES, readSettingsText } from "./source.ts";

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-source-" });
  return { dir, [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
}

function refused(path: string, message: string): void {
  throws(() => readSettingsText(path), (e) => e instanceof VmError && e.message === message);
}

Deno.test("only regular files are read; a link to one is fine, a missing file is undefined", () => {
  using t = tempDir();
  Deno.mkdirSync(`${t.dir}/vm.settings`);
  refused(`${t.dir}/vm.settings`, `${t.dir}/vm.settings: not a regular file`);
  Deno.symlinkSync("/dev/null", `${t.dir}/null.settings`);
  refused(`${t.dir}/null.settings`, `${t.dir}/null.settings: not a regular file`);
  Deno.writeTextFileSync(`${t.dir}/real`, "vm_a=1\n");
  Deno.symlinkSync(`${t.dir}/real`, `${t.dir}/link.settings`);
  equal(readSettingsText(`${t.dir}/link.settings`), "vm_a=1\n");
  equal(readSettingsText(`${t.dir}/missing`), undefined);
  equal(readSettingsFileIfAny(`${t.dir}/missing`, "vm"), undefined);
});

Deno.test("exactly 1 MiB is read, one byte more is refused with the size", () => {
  using t = tempDir();
  const path = `${t.dir}/vm.settings`;
  const text = "vm_a=1\n" + "#".repeat(MAX_SETTINGS_BYTES - 8) + "\n";
  equal(text.length, 1024 * 1024);
  Deno.writeTextFileSync(path, text);
  equal(readSettingsText(path), text);
  Deno.writeTextFileSync(path, text + "\n");
  refused(path, `${path}: larger than 1 MiB (1048577 bytes)`);
});

Deno.test("a file group or others may write is refused with the fix, symlinks followed", () => {
  using t = tempDir();
  const dir = `${t.dir}/it's here`;
  Deno.mkdirSync(dir);
  const path = `${dir}/vm.settings`;
  Deno.writeTextFileSync(path, "vm_a=1\n");
  for (const mode of [0o664, 0o646, 0o666]) {
    Deno.chmodSync(path, mode);
    refused(
      path,
      `${path}: writable by group or others; run 'chmod go-w '${t.dir}/it'\\''s here/vm.settings''`,
    );
  }
  Deno.chmodSync(path, 0o664);
  Deno.symlinkSync(path, `${t.dir}/link`);
  refused(`${t.dir}/link`, `${t.dir}/link: writable by group or others; run 'chmod go-w ${t.dir}/link'`);
  Deno.chmodSync(path, 0o644);
  equal(readSettingsText(`${t.dir}/link`), "vm_a=1\n");
  Deno.chmodSync(path, 0o600);
  equal(readSettingsText(path), "vm_a=1\n");
});
