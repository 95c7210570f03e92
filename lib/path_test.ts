import { equal } from "node:assert/strict";
import { basename, dirname, extname, isWithin, join, normalize, relative, resolve } from "./path.ts";

Deno.test("path helpers behave like POSIX paths", () => {
  equal(normalize("/a//b/./c/../d/"), "/a/b/d");
  equal(normalize("../x/.."), "..");
  equal(join("a", "", "b/"), "a/b");
  equal(resolve("x", "/base/dir"), "/base/dir/x");
  equal(resolve("/abs/../y", "/ignored"), "/y");
  equal(basename("/a/b c/"), "b c");
  equal(basename("-n"), "-n");
  equal(dirname("/a/b"), "/a");
  equal(dirname("b"), ".");
  equal(dirname("/b"), "/");
  equal(relative("/a/b", "/a/b/c/d"), "c/d");
  equal(relative("/a/b", "/a/x"), "../x");
  equal(relative("/a", "/a"), ".");
  equal(isWithin("/a/b", "/a/b/c"), true);
  equal(isWithin("/a/b", "/a/bc"), false);
  equal(extname("disk.QCOW2"), "qcow2");
  equal(extname(".foo"), "");
});
