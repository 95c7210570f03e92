import { equal } from "node:assert/strict";
import { isIsoHead, isRemoteBacking } from "./remote.ts";

Deno.test("an ISO 9660 volume descriptor is told by CD001 at 32 KiB + 1", () => {
  const head = new Uint8Array(0x8800);
  equal(isIsoHead(head), false);
  head.set(new TextEncoder().encode("\x01CD001\x01"), 0x8000);
  equal(isIsoHead(head), true);
  equal(isIsoHead(head.subarray(0, 0x8005)), false, "too short to hold it");
});

Deno.test("a remote image's backing file must be fetched from a server, never read from this host", () => {
  const url = "http://example.test/vm/disk.qcow2";
  equal(isRemoteBacking("http://example.test/vm/base.qcow2", url), true);
  equal(isRemoteBacking("https://mirror.test/base.qcow2", url), true);
  equal(isRemoteBacking("ssh://host.test/vm/base.qcow2", "ssh://host.test/vm/disk.qcow2"), true);
  for (
    const backing of [
      "/home/user/secret",
      "base.qcow2",
      "file:///home/user/secret",
      "FILE:///home/user/secret",
      'json:{"driver":"file","filename":"/home/user/secret"}',
      "ssh://localhost/home/user/.ssh/id_rsa",
      "nbd+unix:///?socket=/run/user/1000/x.sock",
    ]
  ) equal(isRemoteBacking(backing, url), false, backing);
});
