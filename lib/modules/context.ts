/**
 * The helpers every module context shares: storage (parsing storage paths
 * from the right directory, the enabled drives, access under
 * `vm_storage_rwmode`, shared folders, ISOs of directories) and a log filtered by the user's
 * verbosity.
 * @module
 */
import type { Settings } from "../settings/settings.ts";
import { enabledDrives } from "../storage/drives.ts";
import { effectiveAccess, escapeComma, inspectStorage, parseAccess } from "../storage/inspect.ts";
import { buildIso, newTransientIso } from "../storage/iso.ts";
import type { StorageFacts } from "../storage/preflight.ts";
import { checkedShares } from "../storage/shares.ts";
import type { Logger } from "../ui/log.ts";
import type { ModuleLog, StorageTools } from "./api.ts";

/**
 * Storage helpers for the VM whose home (or runtime directory) is `dir`.
 * ISOs made from directories are listed in `transient`, to be deleted once
 * QEMU has opened them. `facts`, what the checks before QEMU starts found
 * (a URL's format, whether a device is writable), completes what
 * `inspect` returns.
 */
export function storageTools(
  settings: Settings,
  dir: string,
  log: Logger,
  transient: string[],
  facts?: StorageFacts,
): StorageTools {
  const cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
  return {
    inspect: (spec, base = dir) => {
      const ref = inspectStorage(spec, base);
      return facts ? facts.refine(ref) : ref;
    },
    drives: (kinds) => enabledDrives(settings, dir, kinds),
    access: (ref) => effectiveAccess(ref, cap),
    shares: () => checkedShares(settings, dir),
    escape: escapeComma,
    isoFromDirectory: async (source) => {
      const target = newTransientIso(dir);
      transient.push(target);
      await buildIso(source, target, log);
      return target;
    },
  };
}

/** Adapts a logger to the module-facing log interface. */
export function moduleLog(log: Logger): ModuleLog {
  return {
    info: (m) => log.info(m),
    step: (m) => log.step(m),
    debug: (m) => log.debug(m),
    warn: (m) => log.warn(m),
  };
}
