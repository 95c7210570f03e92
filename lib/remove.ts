/**
 * Deleting what may already be gone (temporary files, stale sockets).
 * @module
 */

/** Removes a file, or a directory tree with `recursive`, ignoring one that is not there. */
export function removeQuietly(path: string, recursive = false): void {
  try {
    Deno.removeSync(path, { recursive });
  } catch { /* not there, or raced with another vmtools */ }
}
