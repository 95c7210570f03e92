import { deepEqual, equal, match } from "node:assert/strict";
import { Settings } from "../settings/settings.ts";
import {
  configuredForwards,
  formatForward,
  forwardError,
  forwardsFromArgs,
  parseRule,
  parseUsernet,
} from "./forwards.ts";

/** `info usernet` as QEMU 7.2 printed it here (rules with host port 0 got ports from the system), plus a connection and a netdev vmtools did not name. */
const USERNET = "Hub -1 (nd3):\r\n" +
  "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n" +
  "  TCP[HOST_FORWARD]   9               * 35199       10.9.0.15    22     0     0\r\n" +
  "  TCP[ESTABLISHED]   12       10.9.0.15 41000    93.184.216.34   443     0     0\r\n" +
  "  UDP[HOST_FORWARD]   8       127.0.0.1 35002       10.9.0.20    53     0     0\r\n" +
  "Hub -1 (net0):\r\n" +
  "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n" +
  "  TCP[HOST_FORWARD]  13       127.0.0.1  2222       10.0.2.15    22     0     0\r\n";

Deno.test("info usernet: the host forwards, each under its interface", () => {
  deepEqual(parseUsernet(USERNET), [
    { iface: 3, protocol: "tcp", host: "0.0.0.0", hostPort: 35199, guest: "10.9.0.15", guestPort: 22 },
    { iface: 3, protocol: "udp", host: "127.0.0.1", hostPort: 35002, guest: "10.9.0.20", guestPort: 53 },
    { iface: null, protocol: "tcp", host: "127.0.0.1", hostPort: 2222, guest: "10.0.2.15", guestPort: 22 },
  ]);
  deepEqual(parseUsernet(""), []);
});

Deno.test("rules in QEMU's syntax: defaults filled in, bad ones refused, written back the same way", () => {
  deepEqual(parseRule("::2222-:22", 1), {
    iface: 1,
    protocol: "tcp",
    host: "0.0.0.0",
    hostPort: 2222,
    guest: "",
    guestPort: 22,
  });
  equal(formatForward(parseRule("udp:127.0.0.1:0-10.0.2.15:53")!), "udp:127.0.0.1:0-10.0.2.15:53");
  equal(formatForward(parseRule("tcp:127.0.0.1:8080-:80")!), "tcp:127.0.0.1:8080-:80");
  for (const bad of ["tcp:127.0.0.1:2222", "sctp::1-:2", "tcp::65536-:22", "tcp::1-:0", "tcp::1-:22,x=y"]) {
    equal(parseRule(bad), undefined, bad);
  }
});

Deno.test("configured forwards: the hostfwd settings and hostfwd= options of enabled interfaces", () => {
  const s = new Settings();
  s.set("vm_networking_default_mode", "user");
  s.set("vm_networking_iface1_enable", "yes");
  s.set("vm_networking_iface1_hostfwd", "tcp:127.0.0.1:2222-:22 udp::0-:53");
  s.set("vm_networking_iface2_enable", "yes");
  s.set("vm_networking_iface2_mode", "user,hostfwd=tcp::8080-:80");
  s.set("vm_networking_iface3_hostfwd", "tcp::9-:9"); // not enabled
  deepEqual(configuredForwards(s).map((f) => `${f.iface} ${formatForward(f)}`), [
    "1 tcp:127.0.0.1:2222-:22",
    "1 udp:0.0.0.0:0-:53",
    "2 tcp:0.0.0.0:8080-:80",
  ]);
});

Deno.test("a ps command line hints at a hand-started QEMU's forwards", () => {
  const args =
    "qemu-system-x86_64 -netdev user,id=n,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:53-:53 -m 1G";
  deepEqual(forwardsFromArgs(args).map(formatForward), ["tcp:0.0.0.0:2222-:22", "udp:127.0.0.1:53-:53"]);
});

Deno.test("QEMU's failed forward becomes one line naming the host port and the setting", () => {
  const s = new Settings();
  s.set("vm_networking_iface1_hostfwd", "tcp:127.0.0.1:2222-:22", {
    layer: "vm",
    file: "/vm/vm.settings",
    line: 3,
  });
  const e = forwardError(
    new Error(
      "QEMU failed to start (exit 1): qemu-system-x86_64: -netdev user,id=nd1,hostfwd=tcp:127.0.0.1:2222-:22: " +
        "Could not set up host forwarding rule 'tcp:127.0.0.1:2222-:22'",
    ),
    s,
  );
  match(
    e!.message,
    /^host port 127\.0\.0\.1:2222 \(tcp\) of the forward 'tcp:127\.0\.0\.1:2222-:22' \(vm_networking_iface1_hostfwd, \/vm\/vm\.settings:3\) is already in use/,
  );
  equal(forwardError(new Error("QEMU failed to start (exit 1): something else"), s), undefined);
  // Without a host address the rule listens on every address: no address to blame.
  equal(
    forwardError(new Error("Could not set up host forwarding rule 'tcp::2222-:22'"), new Settings())!.message,
    "host port 0.0.0.0:2222 (tcp) of the forward 'tcp::2222-:22' is already in use; " +
      "choose another port, or 0 to let the system pick a free one",
  );
});
