/**
 * Where configuration lives besides the VM homes: the shared defaults, the
 * system overrides, and the user's overrides. Tests relocate them with
 * `VMTOOLS_SHARE_DIR`, `VMTOOLS_ETC_DIR` and `XDG_CONFIG_HOME`.
 * @module
 */
import { resolve } from "./path.ts";

/** The three configuration roots, lowest precedence first. */
export interface Roots {
  /** The shipped defaults and modules: `/usr/local/share/vmtools`, or `VMTOOLS_SHARE_DIR`. */
  share: string;
  /** The administrator's overrides: `/etc/vmtools`, or `VMTOOLS_ETC_DIR`. */
  etc: string;
  /** The user's overrides: `$XDG_CONFIG_HOME/vmtools`; read unless `cfg_include_userhome=no`. */
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
