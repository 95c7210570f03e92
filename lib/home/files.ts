/**
 * The files a running VM uses: in its home for a kept VM, in a private
 * runtime directory for a bare boot (see `runtime_dir.ts`).
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import type { Settings } from "../settings/settings.ts";

/** The files of a VM whose runtime files live in `dir`. */
export function vmFiles(dir: string, settings: Settings): VmFiles {
  return {
    dir,
    pid: `${dir}/${settings.get("cfg_file_pid")}`,
    monitor: `${dir}/${settings.get("cfg_file_monitor")}`,
    serial: `${dir}/${settings.get("cfg_file_serial")}`,
    serialLog: `${dir}/${settings.get("cfg_file_seriallog")}`,
    record: `${dir}/${settings.get("cfg_file_record")}`,
  };
}
