import { deepEqual } from "node:assert/strict";
import { leftovers } from "./leftovers.ts";

Deno.test("leftovers: directory ISOs and NAME.tmp-PID files directly in the home, nothing else", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const names = [
      ".cdrom-0123456789abcdef.iso",
      "vm.settings.tmp-12",
      "efivars.fd.tmp-9",
      ".cdrom-mine.iso",
      "notes.tmp-old",
      "vm.settings",
      "cidata.iso",
    ];
    for (const n of names) Deno.writeTextFileSync(`${dir}/${n}`, "");
    Deno.mkdirSync(`${dir}/child.tmp-3`); // a directory of the user's (a child VM, say) stays
    Deno.writeTextFileSync(`${dir}/child.tmp-3/x.tmp-4`, ""); // only the home itself is looked at
    deepEqual(leftovers(dir), [
      `${dir}/.cdrom-0123456789abcdef.iso`,
      `${dir}/efivars.fd.tmp-9`,
      `${dir}/vm.settings.tmp-12`,
    ]);
    deepEqual(leftovers(`${dir}/missing`), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
