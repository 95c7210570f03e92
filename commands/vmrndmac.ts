/**
 * `vmrndmac`: print a random MAC address.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError } from "../lib/errors.ts";
import { randomMac } from "../lib/mac.ts";
import { DEFAULTS } from "../lib/settings/defaults.ts";

/** `vmrndmac` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmrndmac",
  summary: "print a random MAC address",
  synopsis: ["[prefix]"],
  description: `Print a MAC address made of prefix (up to six colon-separated hex pairs,
default ${DEFAULTS.vm_networking_default_mac}) completed with random bytes. A random first
byte is always unicast and locally administered.`,
  options: COMMON_OPTIONS,
  operands: "none",
  examples: [
    ["vmrndmac", "52:54:00:xx:xx:xx"],
    ["vmrndmac ''", "a fully random local MAC"],
    ["vmrndmac 02:00:", "02:00:xx:xx:xx:xx"],
  ],
  exec(args, io) {
    if (args.operands.length > 1) throw new UsageError("at most one prefix");
    const prefix = args.operands[0] ?? DEFAULTS.vm_networking_default_mac;
    io.output.out(randomMac(prefix) + "\n");
    return Promise.resolve(0);
  },
};

export default command;
