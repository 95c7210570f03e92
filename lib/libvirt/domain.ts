/**
 * The libvirt domain of a VM home, from its resolved settings: what
 * `vminfo --libvirt` prints and `vmup --libvirt` creates.
 * @module
 */
import { vmFiles } from "../home/files.ts";
import { probeHost } from "../host.ts";
import { type BuiltinRegistry, ModuleLoader } from "../modules/loader.ts";
import { realPathOr } from "../fs.ts";
import type { Roots } from "../roots.ts";
import type { Settings } from "../settings/settings.ts";
import type { Logger } from "../ui/log.ts";
import { describeDomain } from "./describe.ts";
import { moduleArgs } from "./modules.ts";
import { renderDomain } from "./render.ts";
import type { DomainSpec } from "./spec.ts";
import { removeQuietly } from "../remove.ts";
import type { StorageFacts } from "../storage/preflight.ts";

/** What describing a home needs from the command. */
export interface DomainTools {
  /** Where the buildcmd modules are looked up besides the built-in ones. */
  roots: Roots;
  /** The modules compiled into the program. */
  builtins: BuiltinRegistry;
  /** Takes the notes on settings libvirt renders differently, and module warnings. */
  log: Logger;
}

/** A home's domain, and files to delete once QEMU has opened them. */
export interface HomeDomain {
  /** The domain as data, for `renderDomain`. */
  spec: DomainSpec;
  /** ISOs that modules made from directories; the caller deletes them once QEMU has opened them. */
  transient: string[];
}

/** Describes the VM at `home` with its resolved `settings` (see `describe.ts`). */
export async function homeDomain(
  home: string,
  settings: Settings,
  tools: DomainTools,
  opts: { auto?: "kvm" | "qemu"; token?: string; facts?: StorageFacts } = {},
): Promise<HomeDomain> {
  const real = realPathOr(home);
  const files = vmFiles(real, settings);
  const loader = new ModuleLoader(tools.roots, settings.bool("cfg_include_userhome"), tools.builtins);
  const mods = await moduleArgs(settings, files, probeHost(), loader, tools.log);
  const spec = await describeDomain(settings, {
    home: real,
    files,
    auto: opts.auto,
    token: opts.token,
    facts: opts.facts,
    moduleArgs: mods.args,
    log: tools.log,
  });
  return { spec, transient: mods.transient };
}

/** The domain XML `vminfo --libvirt` prints: `auto` acceleration written as KVM, no run token. */
export async function domainXml(home: string, settings: Settings, tools: DomainTools): Promise<string> {
  const { spec, transient } = await homeDomain(home, settings, tools);
  for (const f of transient) removeQuietly(f);
  return renderDomain(spec);
}
