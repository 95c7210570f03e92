import { equal } from "node:assert/strict";
import { isListening } from "./process.ts";

Deno.test("isListening: a listening socket is; a symbolic link to one, a missing path and a plain file are not", async () => {
  const dir = Deno.makeTempDirSync();
  const listener = Deno.listen({ transport: "unix", path: `${dir}/monitor.sock` });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    Deno.symlinkSync(`${dir}/monitor.sock`, `${dir}/link.sock`);
    Deno.writeTextFileSync(`${dir}/file`, "");
    equal(await isListening(`${dir}/monitor.sock`), true);
    equal(
      await isListening(`${dir}/link.sock`),
      false,
      "a home from elsewhere pointing at another VM's socket",
    );
    equal(await isListening(`${dir}/missing.sock`), false);
    equal(await isListening(`${dir}/file`), false);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    Deno.removeSync(dir, { recursive: true });
  }
});
