import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { Logger } from "../ui/log.ts";
import { Progress } from "../ui/progress.ts";
import { copyFile, isZero } from "./copy.ts";

const MiB = 2 ** 20;

Deno.test("copyFile copies byte for byte, keeps the mode, leaves zeros as holes and counts the bytes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-copy-" });
  try {
    // Data, 32 MiB of zeros, data, then a zero tail that must still count in the length.
    const from = `${dir}/disk.img`;
    using f = Deno.openSync(from, { write: true, create: true });
    f.writeSync(new TextEncoder().encode("head"));
    f.seekSync(33 * MiB, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array(3 * MiB).fill(7));
    f.truncateSync(50 * MiB);
    Deno.chmodSync(from, 0o640);

    let counted = 0;
    const log = new Logger("test", 2, { out() {}, err() {}, errIsTerminal: false, inIsTerminal: false });
    const progress = new Progress(log, "copying", 50 * MiB);
    const advance = progress.advance.bind(progress);
    progress.advance = (n) => {
      counted += n;
      advance(n);
    };
    await copyFile(from, `${dir}/copy.img`, progress);
    equal(counted, 50 * MiB);
    const [a, b] = [from, `${dir}/copy.img`].map((p) => Deno.readFileSync(p));
    equal(b.length, a.length);
    ok(a.every((x, i) => x === b[i]), "same bytes");
    const info = Deno.statSync(`${dir}/copy.img`);
    equal(info.mode! & 0o777, 0o640);
    ok(info.blocks! * 512 < 4 * MiB, `sparse: ${info.blocks! * 512} bytes allocated`);

    await rejects(copyFile(from, `${dir}/copy.img`), Deno.errors.AlreadyExists);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("isZero looks at every byte, aligned or not", () => {
  const buf = new Uint8Array(4099);
  equal(isZero(buf), true);
  equal(isZero(buf.subarray(1)), true);
  for (const i of [0, 1, 2048, 4098]) {
    buf[i] = 1;
    deepEqual([isZero(buf), isZero(buf.subarray(1, 4099))], [false, i === 0]);
    buf[i] = 0;
  }
});
