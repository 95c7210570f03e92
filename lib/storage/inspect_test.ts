import { deepEqual, equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import {
  defaultAccess,
  type ImageFormat,
  inspectStorage,
  isCdrom,
  type StorageRef,
  urlExtension,
} from "./inspect.ts";

/** The URL `u` parsed, as if the look before the start had found `format` (undefined: not looked at). */
function url(u: string, format?: ImageFormat): StorageRef {
  const ref = inspectStorage(u);
  if (ref.location.kind !== "url") throw new Error("not a URL");
  return { ...ref, location: { ...ref.location, format } };
}

Deno.test("NBD URLs of every form are accepted and read-write by default; file-level URLs default to snapshot", () => {
  for (
    const u of [
      "nbd://host/x",
      "nbd+tcp://host:10809/x",
      "nbd+unix:///x?socket=/run/n.sock",
      "iscsi://h/iqn/0",
    ]
  ) {
    equal(defaultAccess(inspectStorage(u).location), "rw", u);
  }
  for (const u of ["http://h/x", "https://h/x", "ftp://h/x", "ftps://h/x", "ssh://h/x", "tftp://h/x"]) {
    equal(defaultAccess(inspectStorage(u).location), "snap", u);
  }
  throws(() => inspectStorage("gopher://h/x"), VmError);
  deepEqual(inspectStorage("snap:nbd+unix:///?socket=/s").prefix, "snap");
});

Deno.test("a URL goes into a CD-ROM drive by its content when it was read, else by the extension of its path", () => {
  equal(urlExtension("http://h/dir/x.ISO?download=1#top"), "iso");
  equal(urlExtension("http://h.iso/"), "");
  equal(isCdrom(url("http://h/x.iso")), true);
  equal(isCdrom(url("http://h/x.img")), false);
  equal(isCdrom(url("http://h/x.img", "iso")), true);
  equal(isCdrom(url("http://h/x.iso", "raw")), false);
});

Deno.test("a block device the user may not write defaults to snapshot mode", () => {
  equal(defaultAccess({ kind: "device", path: "/dev/sdb" }), "rw");
  equal(defaultAccess({ kind: "device", path: "/dev/sdb", writable: true }), "rw");
  equal(defaultAccess({ kind: "device", path: "/dev/sdb", writable: false }), "snap");
});
