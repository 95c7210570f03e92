import type { CloneContext } from "../../lib/modules/api.ts";

/** The settings naming the files of the cloud-init seed. */
const FILES = ["vm_cloudinit_userdata", "vm_cloudinit_metadata", "vm_cloudinit_networkconfig"];

/**
 * Carries cloud-init over to the new VM (see the buildcmd module
 * `cloudinit`). A copy keeps the source's own settings file, whose relative
 * paths would now be taken from the new home: the files they name are
 * copied there (a fork inherits the values and reads the files in its
 * parent's home). And the new VM gets an instance-id of its own
 * (`vm_cloudinit_instanceid`), so that cloud-init in a guest cloned from a
 * provisioned one sees a new instance and runs its first-boot steps again
 * (new SSH host keys, …); `-k` keeps the source's.
 */
export default function cloudinit(
  { source, home, settings, set, copyFile, keepUnique, log }: CloneContext,
): void {
  for (const name of FILES) {
    const value = settings.get(name);
    if (!value || value.startsWith("/") || settings.origin(name)?.layer !== "vm") continue;
    const origin = source.settings.origin(name);
    const base = origin?.layer === "parent" && origin.source ? origin.source : source.home;
    const from = `${base}/${value}`;
    if (!isFile(from) || isFile(`${home}/${value}`)) continue;
    if (value.split("/").some((p) => p === "..")) {
      log.warn(`${name}='${value}' lies outside the new home; copy ${from} into ${home} for its seed`);
      continue;
    }
    // A link out of the home, which its own seed refuses, must not become a file of the new one.
    if (!inside(from, base)) {
      log.warn(`${name}='${value}': ${from} leads outside its home; not copied`);
      continue;
    }
    copyFile(from, value.replace(/^(\.\/)+/, ""));
    log.debug(`${name}: ${from} copied to ${home}/${value}`);
  }
  if (keepUnique) return;
  if (settings.get("vm_cloudinit_userdata") || settings.get("vm_cloudinit_instanceid")) {
    const id = `iid-${crypto.randomUUID()}`;
    set("vm_cloudinit_instanceid", id);
    log.debug(`cloud-init instance-id ${id}`);
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether `path`, symbolic links followed, lies inside the directory `dir`. */
function inside(path: string, dir: string): boolean {
  const top = Deno.realPathSync(dir);
  return Deno.realPathSync(path).startsWith(top.endsWith("/") ? top : `${top}/`);
}
