import type { CloneContext } from "../../lib/modules/api.ts";

/**
 * Gives the new VM its own copy of the source's UEFI variable store
 * (`cfg_file_efivars`, which the buildcmd module `firmware` makes at the
 * first start): boot entries and Secure Boot keys stay as the source had
 * them, and neither VM's later changes reach the other.
 */
export default function firmwareVars({ source, settings, copyFile, log }: CloneContext): void {
  const from = `${source.home}/${source.settings.get("cfg_file_efivars")}`;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(from);
  } catch {
    return; // never started with UEFI: the new VM makes its own at its first start
  }
  // The firmware refuses a link (see the buildcmd module): its target, another VM's store maybe, is not the source's.
  if (info.isSymlink) log.warn(`${from} is a symbolic link: not copied; the new VM makes its own store`);
  if (!info.isFile) return;
  const to = copyFile(from, settings.get("cfg_file_efivars"));
  log.debug(`UEFI variable store ${from} copied to ${to}`);
}
