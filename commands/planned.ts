/**
 * The commands not built yet (REFERENCE §7), declared only: their options
 * complete in shells already, but running one says it is not available and
 * exits 2 (main.ts). A command built moves its declaration into its own file.
 * @module
 */
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import type { CommandSpec } from "../lib/cli/spec.ts";

/** The declaration of vmmerge. */
export const PLANNED: readonly CommandSpec[] = [
  {
    name: "vmmerge",
    summary: "merge a VM into its parent or its children",
    synopsis: ["[-c | -p] [vmhome ...]"],
    description: "Merge each VM (default: the current directory) into its parent or its children.",
    options: [
      { short: "p", help: "merge into the parent (the default)" },
      { short: "c", help: "merge into the children" },
      { short: "s", help: "safe mode: work on copies, so that a failure rolls back fully" },
      { short: "y", help: "do not ask for confirmation" },
      ...COMMON_OPTIONS,
    ],
    operands: "vmhome",
    examples: [["vmmerge ~/vms/base/web1", "fold web1 into base"]],
  },
];
