/**
 * Where a running VM's display can be reached, as QEMU reports it over QMP:
 * the VNC port it picked itself, or the SPICE port it listens on.
 * @module
 */
import type { QmpClient } from "../qmp/client.ts";

/** QMP `query-vnc`, the fields vmtools reads. */
export interface VncInfo {
  /** Whether QEMU serves VNC; the other fields come only when it does. */
  enabled: boolean;
  /** The address the server listens on. */
  host?: string;
  /** The port it listens on, as text (with `to=`, the one QEMU picked). */
  service?: string;
  /** `ipv4`, `ipv6`, `unix` or `unknown`; an `ipv6` host goes in brackets in the URL. */
  family?: string;
}

/** QMP `query-spice`, the fields vmtools reads. */
export interface SpiceInfo {
  /** Whether QEMU serves SPICE. */
  enabled: boolean;
  /** The address it listens on; absent: every address. */
  host?: string;
  /** The port for plain connections; absent (or 0) when it serves TLS only. */
  port?: number;
  /** The port for TLS connections, used when there is no plain one. */
  "tls-port"?: number;
}

/** `vnc://host:port` or `spice://host:port` from QMP answers; `undefined` when neither serves. */
export function displayUrl(vnc?: VncInfo, spice?: SpiceInfo): string | undefined {
  if (vnc?.enabled && vnc.service) {
    const host = vnc.family === "ipv6" || vnc.host?.includes(":") ? `[${vnc.host}]` : vnc.host;
    return `vnc://${host}:${vnc.service}`;
  }
  const port = spice?.port || spice?.["tls-port"];
  if (spice?.enabled && port) {
    const host = spice.host?.includes(":") ? `[${spice.host}]` : spice.host;
    return `spice://${host ?? "0.0.0.0"}:${port}`;
  }
  return undefined;
}

/** Asks QEMU for its VNC and SPICE servers (an absent one answers `undefined`). */
export async function queryDisplays(
  qmp: QmpClient,
  timeoutMs: number,
): Promise<{ vnc?: VncInfo; spice?: SpiceInfo }> {
  const ask = <T>(cmd: string) => qmp.execute<T>(cmd, undefined, { timeoutMs }).catch(() => undefined);
  const [vnc, spice] = await Promise.all([ask<VncInfo>("query-vnc"), ask<SpiceInfo>("query-spice")]);
  return { vnc, spice };
}
