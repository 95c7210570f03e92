/**
 * The commands not built yet (REFERENCE §7), declared only: their options
 * complete in shells already, but running one says it is not available and
 * exits 2 (main.ts). A command built moves its declaration into its own file.
 * @module
 */
import { COMMON_OPTIONS, type OptionDecl } from "../lib/cli/spec.ts";
import type { CommandSpec } from "../lib/cli/spec.ts";
import { DEFAULTS } from "../lib/settings/defaults.ts";

const CLONE_MODULES = DEFAULTS.cfg_modules_clone.split(" ");

/** The options vmcp and vmfork share. */
const COPY_OPTIONS: readonly OptionDecl[] = [
  { short: "c", help: "copy: the same parent as the source (vmcp's default)" },
  { short: "f", help: "fork: a child of the source (vmfork's default)" },
  { short: "a", help: "autonomous: no parent, the disks are flattened" },
  { short: "k", help: "keep unique properties (MAC addresses)" },
  { short: "M", value: "mod", repeats: true, complete: CLONE_MODULES, help: "skip a clone module" },
  { short: "m", value: "mod", repeats: true, complete: "none", help: "add a clone module" },
  { short: "n", help: "do not touch the source during an autonomous copy (read-only media)" },
  { short: "R", help: "also copy the source's children (below the new VM)" },
  { short: "r", help: "copy every VM found below a source directory, keeping relative paths" },
  { short: "s", help: "the new VMs run in snapshot mode, sharing the source's disks" },
  { short: "z", help: "compress the copied images" },
  { short: "y", help: "take the proposed answer to every question" },
  ...COMMON_OPTIONS,
];

/** The declarations of vmcp, vmfork, vmmerge, vmmv, vmrm and vmfix. */
export const PLANNED: readonly CommandSpec[] = [
  {
    name: "vmcp",
    summary: "copy VMs",
    synopsis: ["source ... dest"],
    description: "Copy each source VM into dest (a directory, or a new name for one source).",
    options: COPY_OPTIONS,
    operands: "vmhome",
    examples: [["vmcp ~/vms/deb ~/vms/deb2", "a copy beside the original"]],
  },
  {
    name: "vmfork",
    summary: "fork a VM into children that share its disks",
    synopsis: ["source dest ..."],
    description: "Make each dest a child of the source VM, on overlays of its disks.",
    options: COPY_OPTIONS,
    operands: "vmhome",
    examples: [["vmfork ~/vms/base ~/vms/base/web1", "a child of base"]],
  },
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
  {
    name: "vmmv",
    summary: "move or rename VMs, keeping their links",
    synopsis: ["source dest", "source ... directory", "-t directory source ..."],
    description: "Move VMs, keeping their parent, children and backing-file links true.",
    options: [
      { short: "t", value: "directory", complete: "dir", help: "move the sources into this directory" },
      { short: "y", help: "do not ask for confirmation" },
      ...COMMON_OPTIONS,
    ],
    operands: "vmhome",
    examples: [["vmmv ~/vms/deb ~/vms/debian", "rename a VM"]],
  },
  {
    name: "vmrm",
    summary: "delete VMs",
    synopsis: ["vmhome ..."],
    description: "Delete each VM (not a running one, nor one with children unless -r).",
    options: [
      { short: "k", help: "remove only vmtools' own files, keeping images and unknown files" },
      { short: "r", help: "also delete every descendant" },
      { short: "y", help: "do not ask for confirmation" },
      ...COMMON_OPTIONS,
    ],
    operands: "vmhome",
    examples: [["vmrm ~/vms/old", "delete a VM"]],
  },
  {
    name: "vmfix",
    summary: "find and repair broken VMs",
    synopsis: ["[dir ...]"],
    description: "Check VM homes for the problems chosen by flag, and repair them unless -n.",
    options: [
      { short: "b", help: "leftover backup directories" },
      { short: "d", help: "work files (pid file, sockets)" },
      { short: "l", help: "stale locks" },
      { short: "p", help: "broken parent/child links" },
      { short: "s", help: "wrong image or backing-file paths" },
      { short: "a", help: "the same as -blps" },
      { short: "A", help: "the same as -bdlps" },
      { short: "n", help: "check only; exit 1 when something is wrong" },
      { short: "r", help: "recurse into subdirectories" },
      ...COMMON_OPTIONS,
    ],
    operands: "dir",
    examples: [["vmfix -an ~/vms", "check every VM directly under ~/vms"]],
  },
];
