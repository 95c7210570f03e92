import { equal } from "node:assert/strict";
import { displayFromArgs, nameFromArgs } from "./running.ts";

Deno.test("nameFromArgs undoes doubled commas and reads guest=", () => {
  equal(nameFromArgs("qemu-system-x86_64 -name foo,,bar -m 1G"), "foo,bar");
  equal(nameFromArgs("qemu-system-x86_64 -name guest=vm1,debug-threads=on"), "vm1");
  equal(nameFromArgs("qemu-system-x86_64 -name my vm -m 1G"), "my vm");
  equal(nameFromArgs("qemu-system-x86_64 -m 1G"), "");
});

Deno.test("displayFromArgs tells what the command line can", () => {
  const q = "qemu-system-x86_64 -m 1G ";
  equal(displayFromArgs(q + "-display none -vnc 127.0.0.1:3"), "vnc://127.0.0.1:5903");
  equal(displayFromArgs(q + "-display none -vnc 127.0.0.1:0,to=99"), "?");
  equal(displayFromArgs(q + "-vnc none"), "disabled");
  equal(
    displayFromArgs(q + "-spice port=5930,addr=127.0.0.1,disable-ticketing=on"),
    "spice://127.0.0.1:5930",
  );
  equal(displayFromArgs(q + "-display gtk,zoom-to-fit=on"), "gtk");
  equal(displayFromArgs(q + "-display none"), "none");
  equal(displayFromArgs(q + "-nographic"), "none");
  equal(displayFromArgs(q.trim()), "?");
});
