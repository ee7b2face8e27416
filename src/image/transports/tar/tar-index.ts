/**
 * A random-access index of a tar file of blobs (docker-archive,
 * oci-archive): one pass over the headers only (data is skipped by
 * offset, never read), then any member is opened as a byte range of the
 * file. This is how a 128 MB archive loads without holding a layer: the
 * layers stream straight from the file.
 *
 * Reads ustar, pax (`x`: path, linkpath, size) and GNU long names
 * (`L`, `K`). It only locates members: nothing is extracted, so names
 * cannot escape anything; symlinks are resolved inside the archive (one
 * hop, as c/image's docker-archive reader). A bad header checksum or a
 * member cut short is `ImageCorrupt`.
 *
 * This is the archive container format (a few flat files); filesystem
 * layers are unpacked by the store, not here.
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../../define/errors.js';

/** What a member is. */
export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

/** One member of an indexed tar. */
export interface TarEntry {
  /** Normalized path (no leading `./` or `/`). */
  name: string;
  type: TarEntryType;
  /** File offset of the first data byte. */
  offset: number;
  /** Data bytes. */
  size: number;
  /** Target of a link. */
  linkname: string;
}

const BLOCK = 512;
/** Largest pax / GNU long-name record we accept. */
const MAX_META = 1024 * 1024;

/** `name` normalized as members are keyed: `./a//b` → `a/b`. */
export function normalizeMemberName(name: string): string {
  const n = posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return n;
}

function corrupt(msg: string): LibpodError {
  return libpodError('ImageCorrupt', `tar archive: ${msg}`);
}

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function octal(buf: Buffer, start: number, len: number): number {
  if ((buf[start] as number) & 0x80) {
    // base-256 (GNU): big-endian, first byte's high bit is the marker
    let v = (buf[start] as number) & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + (buf[i] as number);
    return v;
  }
  const s = cstring(buf, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return Number.NaN;
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = octal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  return sum === stored;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) break;
    const len = parseInt(data.toString('ascii', pos, sp), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) throw corrupt('bad pax record');
    const rec = data.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '':
    case '7':
      return 'file';
    case '5':
      return 'dir';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

async function scan(path: string): Promise<Map<string, TarEntry>> {
  const fh = await open(path, 'r');
  try {
    const total = (await fh.stat()).size;
    const entries = new Map<string, TarEntry>();
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (pos + BLOCK > total) {
        if (pos === total) break; // no end-of-archive blocks: tolerated, as Go's archive/tar does
        throw corrupt(`truncated header at byte ${pos}`);
      }
      const h = await readAt(fh, pos, BLOCK);
      if (h.every((b) => b === 0)) break;
      if (!checksumOk(h)) throw corrupt(`bad header checksum at byte ${pos}`);
      const flag = String.fromCharCode(h[156] as number);
      let size = octal(h, 124, 12);
      if (pax.size !== undefined) size = Number(pax.size);
      if (!Number.isSafeInteger(size) || size < 0) throw corrupt(`bad size at byte ${pos}`);
      const dataStart = pos + BLOCK;
      if (dataStart + size > total) throw corrupt(`member at byte ${pos} is cut short (${size} bytes declared)`);
      const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (flag === 'x' || flag === 'L' || flag === 'K') {
        if (size > MAX_META) throw corrupt('oversized metadata record');
        const data = await readAt(fh, dataStart, size);
        if (flag === 'x') pax = { ...pax, ...parsePax(data) };
        else if (flag === 'L') longName = cstring(data, 0, data.length);
        else longLink = cstring(data, 0, data.length);
        pos = next;
        continue;
      }
      if (flag === 'g') {
        pos = next;
        continue;
      }
      const magic = h.toString('ascii', 257, 262);
      let name = cstring(h, 0, 100);
      if (magic === 'ustar') {
        const prefix = cstring(h, 345, 155);
        if (prefix !== '') name = `${prefix}/${name}`;
      }
      name = pax.path ?? longName ?? name;
      const linkname = pax.linkpath ?? longLink ?? cstring(h, 157, 100);
      const key = normalizeMemberName(name);
      const type = entryType(flag);
      if (!entries.has(key)) entries.set(key, { name: key, type, offset: dataStart, size: type === 'file' ? size : 0, linkname });
      pax = {};
      longName = undefined;
      longLink = undefined;
      pos = next;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** An indexed tar file: members by normalized name, opened as byte ranges. */
export class TarIndex {
  readonly path: string;
  readonly entries: ReadonlyMap<string, TarEntry>;

  private constructor(path: string, entries: Map<string, TarEntry>) {
    this.path = path;
    this.entries = entries;
  }

  /** Indexes the tar file at `path` (headers only). */
  static open(path: string): ResultAsync<TarIndex, LibpodError> {
    return attempt(async () => new TarIndex(path, await scan(path)), 'ImageCorrupt', `reading tar archive ${path}`);
  }

  /**
   * The regular file `name` refers to, following one symlink (relative to
   * the link's directory, inside the archive). Undefined when absent or
   * not a regular file.
   */
  file(name: string): TarEntry | undefined {
    const key = normalizeMemberName(name);
    let e = this.entries.get(key);
    if (e && (e.type === 'symlink' || e.type === 'hardlink')) {
      const target = e.type === 'symlink' ? posix.join(posix.dirname(key), e.linkname) : e.linkname;
      e = this.entries.get(normalizeMemberName(target));
    }
    return e && e.type === 'file' ? e : undefined;
  }

  /** Whether the archive has a member called `name` (any type). */
  has(name: string): boolean {
    return this.entries.has(normalizeMemberName(name));
  }

  /** A stream of a member's bytes. */
  stream(e: TarEntry): Readable {
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1024 * 1024 });
  }

  /** A member read whole (at most `limit` bytes; larger is `ImageCorrupt`). */
  read(name: string, limit: number): ResultAsync<Buffer, LibpodError> {
    const e = this.file(name);
    if (!e) return errAsync(corrupt(`${name} is missing`));
    if (e.size > limit) return errAsync(corrupt(`${name} is larger than ${limit} bytes`));
    return attempt(async () => {
      const fh = await open(this.path, 'r');
      try {
        return await readAt(fh, e.offset, e.size);
      } finally {
        await fh.close();
      }
    }, 'ImageCorrupt', `reading ${name}`).andThen((b) => (b.length === e.size ? okAsync(b) : errAsync(corrupt(`${name} is cut short`))));
  }

  /** The first `n` bytes of a member (fewer when it is shorter). */
  head(e: TarEntry, n: number): ResultAsync<Buffer, LibpodError> {
    return attempt(async () => {
      const fh = await open(this.path, 'r');
      try {
        return await readAt(fh, e.offset, Math.min(n, e.size));
      } finally {
        await fh.close();
      }
    }, 'ImageCorrupt', `reading ${e.name}`);
  }
}
