/**
 * Where configuration lives besides the VM homes: the shared defaults, the
 * system overrides, and the user's overrides. Tests relocate them with
 * `VMTOOLS_SHARE_DIR`, `VMTOOLS_ETC_DIR` and `XDG_CONFIG_HOME`.
 * @module
 */
import { resolve } from "./path.ts";

/** The three configuration roots, lowest precedence first. */
export interface Roots {
  share: string;
  etc: string;
  user: string;
}

/** Reads the roots from the environment (`getEnv`, default the process's), as absolute paths. */
export function configRoots(getEnv: (name: string) => string | undefined = (n) => Deno.env.get(n)): Roots {
  const env = (n: string) => getEnv(n) || undefined;
  const config = env("XDG_CONFIG_HOME") ??
    `${env("HOME") ?? "/nonexistent"}/.config`;
  return {
    share: resolve(env("VMTOOLS_SHARE_DIR") ?? "/usr/local/share/vmtools"),
    etc: resolve(env("VMTOOLS_ETC_DIR") ?? "/etc/vmtools"),
    user: resolve(`${config}/vmtools`),
  };
}
