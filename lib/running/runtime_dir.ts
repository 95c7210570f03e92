/**
 * The user's private runtime directory (`$XDG_RUNTIME_DIR/vmtools`, else
 * `$TMPDIR/vmtools-UID`): bare boots keep their files in a directory of it,
 * and `running/` links the VMs vmup started (see `record.ts`).
 * @module
 */
import { VmError } from "../errors.ts";

/** The directory of the runtime directory that links running VMs. */
export const INDEX_DIR_NAME = "running";

/** The directory that holds bare boots' runtime directories, created private. */
export function runtimeBase(): string {
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  const base = xdg ? `${xdg}/vmtools` : `${Deno.env.get("TMPDIR") || "/tmp"}/vmtools-${Deno.uid()}`;
  try {
    Deno.mkdirSync(base, { mode: 0o700, recursive: true });
  } catch { /* checked below */ }
  const info = Deno.lstatSync(base);
  if (
    !info.isDirectory || info.uid !== Deno.uid() ||
    ((info.mode ?? 0) & 0o077) !== 0
  ) {
    throw new VmError(
      `${base}: not a private directory of this user; remove it or set XDG_RUNTIME_DIR`,
    );
  }
  return base;
}

/** Makes a fresh private runtime directory for a bare boot of `name`. */
export function makeRuntimeDir(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 16) || "vm";
  return Deno.makeTempDirSync({ dir: runtimeBase(), prefix: `${safe}.` });
}
