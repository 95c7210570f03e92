/**
 * User names without a name service: /etc/passwd, read directly.
 * @module
 */

/** The name of user `uid` in /etc/passwd, or `null`. */
export function userName(uid: number, passwd?: string): string | null {
  let text = passwd;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/etc/passwd");
    } catch {
      return null;
    }
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(uid)) return f[0];
  }
  return null;
}

/** Who runs vmtools, for messages and file headers: $USER, $LOGNAME, /etc/passwd, else the uid. */
export function currentUser(): string {
  const uid = Deno.uid() ?? -1;
  return Deno.env.get("USER") || Deno.env.get("LOGNAME") || userName(uid) || `uid ${uid}`;
}
