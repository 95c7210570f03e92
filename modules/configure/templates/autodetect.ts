import type { ConfigureContext } from "../../../lib/modules/api.ts";

/** Applies the `macos` template when the boot media look like macOS installers. */
export default function autodetect(
  { disks, cdroms, addTemplate, log }: ConfigureContext,
): void {
  for (const ref of [...cdroms, ...disks]) {
    const loc = ref.location;
    if (loc.kind !== "file") continue;
    if (
      loc.format === "dmg" ||
      (loc.format === "iso" && /mac ?os|os ?x/i.test(volumeLabel(loc.path)))
    ) {
      log.info(`${loc.path} looks like macOS media: applying template macos`);
      addTemplate("macos");
      return;
    }
  }
}

/** The ISO 9660 volume identifier (32 bytes at 0x8028). */
function volumeLabel(path: string): string {
  const f = Deno.openSync(path);
  try {
    const buf = new Uint8Array(32);
    f.seekSync(0x8028, Deno.SeekMode.Start);
    f.readSync(buf);
    return new TextDecoder().decode(buf).trim();
  } finally {
    f.close();
  }
}
