import { deepEqual, doesNotThrow, throws } from "node:assert/strict";
import { checkManifest, type DigestAlgorithm, parseManifest } from "./manifest.ts";

const SHA1 = "a".repeat(40), SHA256 = "B".repeat(64);

Deno.test("parseManifest reads SHA1, SHA256 and SHA512 lines, with or without blanks around =", () => {
  const text = `SHA1(a.ovf)= ${SHA1}\n\nSHA256(disk 1.vmdk) = ${SHA256}\r\nsha512(x)=${"0".repeat(128)}\n`;
  deepEqual(parseManifest(text, "m"), [
    { algorithm: "sha1", file: "a.ovf", digest: SHA1, line: 1 },
    { algorithm: "sha256", file: "disk 1.vmdk", digest: SHA256.toLowerCase(), line: 3 },
    { algorithm: "sha512", file: "x", digest: "0".repeat(128), line: 4 },
  ]);
});

Deno.test("parseManifest names the line it cannot read", () => {
  throws(
    () => parseManifest(`SHA1(a)= ${SHA1}\nMD5(b)= 00\n`, "x.ova: x.mf"),
    /^VmError: x\.ova: x\.mf:2: expected 'SHA256\(FILE\)= DIGEST'/,
  );
  throws(() => parseManifest(`SHA256(a)= ${SHA1}\n`, "m"), /m:1: expected/, "a digest of the wrong length");
});

Deno.test("checkManifest: a digest that differs or a file the archive lacks is an error naming the file", () => {
  const entries = parseManifest(`SHA1(a.ovf)= ${SHA1}\nSHA256(d.vmdk)= ${SHA256}\n`, "m");
  const digests = (d: string) =>
    new Map<string, Map<DigestAlgorithm, string>>([
      ["a.ovf", new Map([["sha1", SHA1]])],
      ["d.vmdk", new Map([["sha256", d]])],
    ]);
  doesNotThrow(() => checkManifest(entries, digests(SHA256.toLowerCase()), "x.ova"));
  throws(
    () => checkManifest(entries, digests("c".repeat(64)), "x.ova"),
    /^VmError: x\.ova: checksum mismatch for d\.vmdk \(SHA256\): the archive is damaged or was altered$/,
  );
  throws(
    () => checkManifest(entries, new Map([["a.ovf", new Map([["sha1", SHA1]])]]), "x.ova"),
    /x\.ova: the manifest lists d\.vmdk, which the archive does not hold/,
  );
});
