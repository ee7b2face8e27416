/**
 * The tar format, as far as the archive module reads and writes it: 512-byte
 * ustar / GNU headers (octal or base-256 numbers), PAX extended records
 * (`x`, `g`) kept as raw bytes (xattr values such as `security.capability`
 * are binary), and GNU long names (`L`, `K`). Pure functions, no I/O.
 * @module
 */

/** Size of a tar block. */
export const BLOCK = 512;

/** What an entry is, from its typeflag. */
export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

/** Typeflags of metadata blocks that describe the next entry. */
export const META_TYPES = new Set(['x', 'g', 'L', 'K']);

/** A header block, decoded. */
export interface RawHeader {
  /** Name from the header alone (ustar prefix joined), before PAX / GNU long names. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  /** Size of the data that follows, from the header alone. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** The typeflag character (`'0'` for a NUL typeflag). */
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

const decoder = new TextDecoder('utf-8');

function cstring(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end += 1;
  return decoder.decode(b.subarray(off, end));
}

/** A numeric field: octal text, or base-256 when the first byte has its high bit set. */
function numeric(b: Uint8Array, off: number, len: number): number {
  if (((b[off] ?? 0) & 0x80) !== 0) {
    let v = (b[off] ?? 0) & 0x7f;
    for (let i = off + 1; i < off + len; i += 1) v = v * 256 + (b[i] ?? 0);
    return v;
  }
  // octal digits, optionally surrounded by whitespace and ended by NUL or the field's end (no string made)
  const space = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  let i = off;
  const end = off + len;
  while (i < end && space(b[i] as number)) i += 1;
  let v = 0;
  for (; i < end; i += 1) {
    const c = b[i] as number;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i += 1) {
    const c = b[i] as number;
    if (c === 0) break;
    if (!space(c)) return Number.NaN;
  }
  return v;
}

/** Whether the block is all zeros (the end-of-archive marker). */
export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i += 1) if (b[i] !== 0) return false;
  return true;
}

function checksumOk(b: Uint8Array): boolean {
  let sum = 8 * 32; // the checksum field itself counts as spaces
  for (let i = 0; i < 148; i += 1) sum += b[i] as number;
  for (let i = 156; i < BLOCK; i += 1) sum += b[i] as number;
  return numeric(b, 148, 8) === sum;
}

/** Decodes a header block; `undefined` when it is not a valid tar header. */
export function decodeHeader(b: Uint8Array): RawHeader | undefined {
  if (b.length < BLOCK || !checksumOk(b)) return undefined;
  const ustar = cstring(b, 257, 6) === 'ustar' && b[262] === 0;
  let name = cstring(b, 0, 100);
  if (ustar) {
    const prefix = cstring(b, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const h: RawHeader = {
    name,
    mode: numeric(b, 100, 8),
    uid: numeric(b, 108, 8),
    gid: numeric(b, 116, 8),
    size: numeric(b, 124, 12),
    mtime: numeric(b, 136, 12),
    typeflag: b[156] === 0 ? '0' : String.fromCharCode(b[156] ?? 48),
    linkname: cstring(b, 157, 100),
    uname: cstring(b, 265, 32),
    gname: cstring(b, 297, 32),
    devmajor: numeric(b, 329, 8),
    devminor: numeric(b, 337, 8),
  };
  for (const n of [h.mode, h.uid, h.gid, h.size, h.mtime, h.devmajor, h.devminor]) if (!Number.isSafeInteger(n) || n < 0) return undefined;
  return h;
}

/**
 * The entry type of a typeflag; `undefined` for the ones this module does not
 * accept (GNU sparse, dumpdir, multi-volume, labels, vendor types): their
 * data layout is where two tar readers could disagree on where the next
 * header starts.
 */
export function entryType(typeflag: string): EntryType | undefined {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return undefined;
  }
}

/** Bytes of data plus padding to the next block boundary. */
export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** One PAX record; values are raw bytes (xattrs may be binary). */
export interface PaxRecord {
  key: string;
  value: Buffer;
}

/** Parses PAX extended header data; `undefined` when malformed. */
export function decodePax(data: Buffer): PaxRecord[] | undefined {
  const out: PaxRecord[] = [];
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // NUL padding some writers leave
    const space = data.indexOf(0x20, off);
    if (space < 0) return undefined;
    const len = Number(data.toString('latin1', off, space));
    if (!Number.isSafeInteger(len) || len <= space - off + 1 || off + len > data.length || data[off + len - 1] !== 0x0a) return undefined;
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= off + len) return undefined;
    out.push({ key: data.toString('utf8', space + 1, eq), value: Buffer.from(data.subarray(eq + 1, off + len - 1)) });
    off += len;
  }
  return out;
}

/** Encodes PAX records (the record length counts its own digits). */
export function encodePax(records: readonly PaxRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const { key, value } of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

/** The name a GNU long-name (`L` / `K`) block carries. */
export function decodeLongName(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

/** What {@link encodeEntry} writes. */
export interface NewEntry {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records (xattrs as `SCHILY.xattr.<name>`, fractional times...). */
  pax?: readonly PaxRecord[];
}

function octal(b: Buffer, off: number, len: number, v: number): boolean {
  const text = v.toString(8);
  if (text.length > len - 1) return false;
  b.write(`${text.padStart(len - 1, '0')}\0`, off, len, 'latin1');
  return true;
}

function headerBlock(e: NewEntry, name: string, typeflag: string, size: number): { block: Buffer; fits: boolean } {
  const b = Buffer.alloc(BLOCK);
  const nameBytes = Buffer.from(name, 'utf8');
  const linkBytes = Buffer.from(e.linkname ?? '', 'utf8');
  let fits = nameBytes.length <= 100 && linkBytes.length <= 100;
  nameBytes.copy(b, 0, 0, Math.min(100, nameBytes.length));
  for (const [off, v] of [[100, e.mode & 0o7777], [108, e.uid], [116, e.gid], [329, e.devmajor ?? 0], [337, e.devminor ?? 0]] as const) {
    if (!octal(b, off, 8, v)) fits = false;
  }
  if (!octal(b, 124, 12, size) || !octal(b, 136, 12, Math.max(0, Math.floor(e.mtime)))) fits = false;
  b.write(typeflag, 156, 1, 'latin1');
  linkBytes.copy(b, 157, 0, Math.min(100, linkBytes.length));
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return { block: b, fits };
}

/**
 * The blocks of one entry without data: a PAX header when the name, link
 * name or a number does not fit ustar, or when `pax` records are given,
 * then the ustar header. Data (and its padding) is the caller's.
 */
export function encodeEntry(e: NewEntry): Buffer {
  const size = e.size ?? 0;
  const plain = headerBlock(e, e.name, e.typeflag, size);
  const extra = e.pax ?? [];
  if (plain.fits && extra.length === 0) return plain.block;
  const records: PaxRecord[] = [{ key: 'path', value: Buffer.from(e.name, 'utf8') }];
  if (e.linkname) records.push({ key: 'linkpath', value: Buffer.from(e.linkname, 'utf8') });
  for (const [key, v] of [['uid', e.uid], ['gid', e.gid], ['size', size]] as const) if (v > 0o7777777) records.push({ key, value: Buffer.from(String(v)) });
  records.push(...extra.filter((r) => r.key !== 'path' && r.key !== 'linkpath'));
  const data = encodePax(records);
  const short = (s: string): string => Buffer.from(s, 'utf8').subarray(0, 99).toString('latin1').replace(/[^\x20-\x7e]/g, '_');
  const paxHeader = headerBlock({ ...e, linkname: '', uid: 0, gid: 0, mode: 0o644 }, short(`PaxHeaders/${e.name}`), 'x', data.length).block;
  const trimmed: NewEntry = { ...e, uid: Math.min(e.uid, 0o7777777), gid: Math.min(e.gid, 0o7777777), linkname: e.linkname === undefined ? undefined : short(e.linkname) };
  const main = headerBlock(trimmed, short(e.name), e.typeflag, size > 0o77777777777 ? 0 : size).block;
  return Buffer.concat([paxHeader, data, Buffer.alloc(padded(data.length) - data.length), main]);
}
