/**
 * Removing the runtime directories of bare boots whose QEMU is gone, after
 * undoing what a killed vmup left half done in them (a conversion beside
 * the image, say).
 * @module
 */
import { recoverChanges } from "../change/recover.ts";
import type { Settings } from "../settings/settings.ts";
import type { Logger } from "../ui/log.ts";
import { vmFiles } from "../home/files.ts";
import { runningFrom } from "./record.ts";
import { INDEX_DIR_NAME, runtimeBase } from "./runtime_dir.ts";

/** A directory younger than this may belong to a vmup still starting. */
const MIN_AGE_MS = 60_000;

/** Sweeps the user's runtime directory; `tool` names the files (tool settings). */
export async function sweepRuntimeDirs(tool: Settings, log: Logger): Promise<void> {
  let base: string;
  try {
    base = runtimeBase();
  } catch {
    return;
  }
  for (const entry of Deno.readDirSync(base)) {
    if (!entry.isDirectory || entry.name === INDEX_DIR_NAME) continue;
    const dir = `${base}/${entry.name}`;
    try {
      const age = Date.now() - (Deno.statSync(dir).mtime?.getTime() ?? 0);
      if (age < MIN_AGE_MS) continue;
      if (await runningFrom(vmFiles(dir, tool), tool.get("cfg_qemu_cmdprefix"))) continue;
      const recovered = await recoverChanges(dir, tool.get("cfg_file_tmpdir"), log);
      if (recovered.every((r) => r.outcome !== "running" && r.outcome !== "failed")) {
        Deno.removeSync(dir, { recursive: true });
      }
    } catch { /* raced with another vmtools */ }
  }
}
