/**
 * Reading a tar archive once from end to end with `tar-stream` (loaded
 * only here): where each file's data lies in the archive, its digests, and
 * the text of the few small files asked for. Nothing is extracted: a disk
 * inside is read in place, by its offset.
 * @module
 */
import type { Extract } from "tar-stream";
import { VmError } from "../../errors.ts";
import type { DigestAlgorithm } from "./manifest.ts";

/** A file of the archive. */
export interface ArchiveMember {
  /** Its name, without a leading `./`. */
  name: string;
  /** Where its data starts in the archive, in bytes. */
  offset: number;
  /** The size of its data, in bytes. */
  size: number;
  /** Its digests (lower-case hex), for the algorithms asked for. */
  digests: Map<DigestAlgorithm, string>;
  /** Its text, for the files asked for. */
  text?: string;
}

/** What {@linkcode scanTar} computes, asked file by file as each comes. */
export interface ScanOptions {
  /** The digests to compute of the file `name`. */
  digestsOf(name: string): readonly DigestAlgorithm[];
  /** Whether to keep the text of the file `name` (at most `maxText` bytes). */
  wantText(name: string): boolean;
  /** The largest file whose text is kept, in bytes; a larger one asked for is an error. */
  maxText: number;
  /** Called once a file has been read whole, before the next one starts. */
  onMember?(member: ArchiveMember): void;
  /** Called with the number of bytes of the archive read so far. */
  onProgress?(bytes: number): void;
}

/** A tar header is one 512-byte block; the data follows it. */
const HEADER_BYTES = 512;
const CHUNK = 1 << 20;

/**
 * Reads the tar archive at `path` to its end, returning its regular files
 * in archive order. A damaged or truncated archive, or one holding a file
 * name twice, is a {@linkcode VmError} naming `path`.
 */
export async function scanTar(path: string, opts: ScanOptions): Promise<ArchiveMember[]> {
  const tar = await import("tar-stream");
  const { createHash } = await import("node:crypto");
  const extract = tar.extract();
  const members: ArchiveMember[] = [];
  const seen = new Set<string>();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new VmError(`${path}: cannot open: ${(e as Error).message}`);
  }
  const feeding = feed(file, extract, opts.onProgress);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const name = header.name.replace(/^(\.\/)+/, "");
      if (header.type !== "file" && header.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      if (seen.has(name)) throw new VmError(`${path}: holds two files named ${name}`);
      seen.add(name);
      const hashes = opts.digestsOf(name).map((a) => [a, createHash(a)] as const);
      const keep = opts.wantText(name);
      if (keep && header.size > opts.maxText) {
        throw new VmError(`${path}: ${name} is too large (${header.size} bytes, at most ${opts.maxText})`);
      }
      const parts: Uint8Array[] = [];
      for await (const chunk of entry) {
        const bytes = chunk as Uint8Array;
        for (const [, h] of hashes) h.update(bytes);
        if (keep) parts.push(bytes);
      }
      const member: ArchiveMember = {
        name,
        offset: entry.offset + HEADER_BYTES,
        size: header.size,
        digests: new Map(hashes.map(([a, h]) => [a, h.digest("hex")])),
      };
      if (keep) member.text = new TextDecoder().decode(concat(parts));
      members.push(member);
      opts.onMember?.(member);
    }
  } catch (e) {
    extract.destroy();
    await feeding.catch(() => {});
    if (e instanceof VmError) throw e;
    throw new VmError(`${path}: ${damage(e)}`);
  }
  await feeding;
  return members;
}

/** Writes the file into the extractor, waiting whenever it has enough buffered; closes the file. */
async function feed(
  file: Deno.FsFile,
  extract: Extract,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  let total = 0;
  try {
    for (;;) {
      // A new buffer each time: the extractor keeps the chunks it was given.
      const buf = new Uint8Array(CHUNK);
      const n = await file.read(buf);
      if (n === null || extract.destroyed) break;
      total += n;
      onProgress?.(total);
      if (!extract.write(buf.subarray(0, n))) {
        await new Promise<void>((resolve) => {
          const go = () => {
            extract.off("drain", go);
            extract.off("close", go);
            resolve();
          };
          extract.on("drain", go);
          extract.on("close", go);
        });
      }
    }
    if (!extract.destroyed) extract.end(undefined);
  } catch (e) {
    extract.destroy(e as Error); // the reader then fails with it
  } finally {
    file.close();
  }
}

/** What tar-stream's complaint means for the user. */
function damage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/unexpected end of data/i.test(message)) return "the archive is truncated (it ends inside a file)";
  if (/invalid tar header|unknown format|invalid header/i.test(message)) {
    return "not a tar archive, or a damaged one (invalid tar header)";
  }
  return `cannot read the archive: ${message}`;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
