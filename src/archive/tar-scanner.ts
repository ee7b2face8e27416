/**
 * A tar stream filter: parses each entry's headers (PAX, GNU long names,
 * ustar), hands the decoded entry to a callback, and forwards the entry's
 * bytes UNCHANGED unless the callback drops or rewrites it. File data is
 * streamed through without copying; only headers are held in memory
 * (bounded). Used both before GNU tar extracts (containment checks,
 * whiteout conversion, skipping device nodes) and after it packs.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ArchiveEntry } from './entry.js';
import { BLOCK, decodeHeader, decodeLongName, decodePax, entryType, isZeroBlock, META_TYPES, padded, type PaxRecord } from './tar-format.js';

/** What to do with one entry; the default (an empty object) forwards it unchanged. */
export interface EntryAction {
  /** Drop the entry: its headers and its data. */
  drop?: boolean;
  /** Write these blocks instead of the entry's own header blocks (PAX, long names, header). */
  headers?: Buffer;
  /** Skip the entry's data (the replacement `headers` must then declare size 0). */
  dropData?: boolean;
  /** Whole entries (headers and padded data) to write after this one. */
  append?: Buffer;
}

/** Called once per entry, in archive order; a thrown `LibpodError` refuses the archive. */
export type EntryHandler = (entry: ArchiveEntry) => EntryAction | undefined | Promise<EntryAction | undefined>;

/** PAX / long-name bytes held for one entry at most (xattrs included). */
const MAX_META = 16 * 1024 * 1024;

const END = Buffer.alloc(2 * BLOCK);

function paxValue(records: readonly PaxRecord[], key: string): string | undefined {
  let v: string | undefined;
  for (const r of records) if (r.key === key) v = r.value.toString('utf8');
  return v;
}

/**
 * `parts` as one buffer. Entries forwarded unchanged are consecutive
 * slices of the same input chunk: those are joined as one slice of it, not
 * copied (file data is most of an archive).
 */
function joined(parts: readonly Buffer[]): Buffer {
  const first = parts[0] as Buffer;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] as Buffer;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/**
 * The filter. When the handler refuses an entry, or the input is not a tar
 * archive, {@link TarScanner.refusal} is set, the output ends right there
 * (with an end-of-archive marker when every earlier entry was complete, so
 * what precedes the refused entry is extracted whole) and the rest of the
 * input is read and discarded.
 */
export class TarScanner extends Transform {
  /** Why the archive was refused, once it was. */
  refusal: LibpodError | undefined;
  /** Entries seen (forwarded or not). */
  entries = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private meta: Buffer[] = [];
  private metaBytes = 0;
  private entryPax: PaxRecord[] = [];
  private globalPax: PaxRecord[] = [];
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Bytes of data (with padding) of the current entry still to pass; forwarded or skipped. */
  private dataLeft = 0;
  private forwardData = true;
  /** What to write once the current entry's data has passed. */
  private after: Buffer | undefined;
  private need: { kind: 'header' } | { kind: 'meta'; typeflag: string; size: number } = { kind: 'header' };
  private done = false;

  private readonly endMarker: Buffer;

  /** `terminate: false` leaves out the end-of-archive marker (for concatenating archives). */
  constructor(
    private readonly handler: EntryHandler,
    opts: { terminate?: boolean } = {},
  ) {
    super();
    this.endMarker = opts.terminate === false ? Buffer.alloc(0) : END;
  }

  /** Output of the current input chunk, pushed as one buffer: one write to GNU tar's stdin per input chunk, not per entry. */
  private out: Buffer[] = [];

  private output(b: Buffer): void {
    if (b.length > 0) this.out.push(b);
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    const all = this.out.length === 1 ? (this.out[0] as Buffer) : joined(this.out);
    this.out = [];
    this.push(all);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.consume(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)).then(
      () => {
        this.flushOut();
        cb();
      },
      (e: unknown) => cb(e as Error),
    );
  }

  override _flush(cb: TransformCallback): void {
    if (!this.done) {
      if (this.entries === 0 && this.pendingBytes === 0 && this.dataLeft === 0 && this.metaBytes === 0) this.pushEnd();
      else this.refuse(libpodError('InvalidArg', 'the archive is truncated'), false);
    }
    this.flushOut();
    cb();
  }

  private pushEnd(): void {
    this.output(this.endMarker);
  }

  private refuse(e: LibpodError, complete: boolean): void {
    this.refusal ??= e;
    if (!this.done && complete) this.pushEnd();
    this.done = true;
  }

  private takeBytes(n: number): Buffer | undefined {
    if (this.pendingBytes < n) return undefined;
    const all = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return head;
  }

  private async consume(chunk: Buffer): Promise<void> {
    let buf = chunk;
    while (!this.done) {
      if (this.dataLeft > 0) {
        // data passes straight from the input chunk, never copied
        if (this.pendingBytes > 0) {
          buf = this.pending.length === 1 && buf.length === 0 ? (this.pending[0] as Buffer) : Buffer.concat([...this.pending, buf]);
          this.pending = [];
          this.pendingBytes = 0;
        }
        if (buf.length === 0) return;
        const n = Math.min(this.dataLeft, buf.length);
        if (this.forwardData) this.output(buf.subarray(0, n));
        this.dataLeft -= n;
        buf = buf.subarray(n);
        if (this.dataLeft === 0 && this.after) {
          this.output(this.after);
          this.after = undefined;
        }
        continue;
      }
      if (buf.length > 0) {
        this.pending.push(buf);
        this.pendingBytes += buf.length;
        buf = Buffer.alloc(0);
      }
      const need = this.need;
      const size = need.kind === 'header' ? BLOCK : padded(need.size);
      const block = this.takeBytes(size);
      if (!block) return;
      if (need.kind === 'header') await this.header(block);
      else this.metaData(need.typeflag, need.size, block);
    }
  }

  private metaData(typeflag: string, size: number, block: Buffer): void {
    this.meta.push(block);
    const data = block.subarray(0, size);
    this.need = { kind: 'header' };
    if (typeflag === 'L') this.longName = decodeLongName(data);
    else if (typeflag === 'K') this.longLink = decodeLongName(data);
    else {
      const records = decodePax(data);
      if (!records) return this.refuse(libpodError('InvalidArg', 'the archive has a malformed PAX header'), true);
      if (typeflag === 'g') {
        if (records.some((r) => r.key === 'path' || r.key === 'linkpath' || r.key === 'size' || r.key.startsWith('GNU.sparse'))) {
          return this.refuse(libpodError('InvalidArg', 'the archive has a global PAX header that sets paths or sizes'), true);
        }
        this.globalPax = [...this.globalPax, ...records];
        // a global header is an entry of its own: forward it now
        for (const b of this.meta) this.output(b);
        this.meta = [];
        this.metaBytes = 0;
      } else this.entryPax.push(...records);
    }
  }

  private async header(block: Buffer): Promise<void> {
    if (isZeroBlock(block)) {
      if (this.metaBytes > 0) return this.refuse(libpodError('InvalidArg', 'the archive ends inside an entry'), true);
      this.pushEnd();
      this.done = true;
      return;
    }
    const h = decodeHeader(block);
    if (!h) return this.refuse(libpodError('InvalidArg', this.entries === 0 ? 'the input is not a tar archive' : 'the archive has a corrupt header'), true);
    if (META_TYPES.has(h.typeflag)) {
      this.metaBytes += BLOCK + padded(h.size);
      if (this.metaBytes > MAX_META) return this.refuse(libpodError('InvalidArg', 'the archive has oversized PAX or long-name headers'), true);
      this.meta.push(block);
      this.need = { kind: 'meta', typeflag: h.typeflag, size: h.size };
      return;
    }
    const pax = this.entryPax;
    const all = [...this.globalPax, ...pax];
    const paxSize = paxValue(all, 'size');
    const size = paxSize === undefined ? h.size : Number(paxSize);
    if (!Number.isSafeInteger(size) || size < 0) return this.refuse(libpodError('InvalidArg', 'the archive has an invalid entry size'), true);
    const type = entryType(h.typeflag);
    if (type === undefined) return this.refuse(libpodError('InvalidArg', `the archive has an entry of unsupported type ${JSON.stringify(h.typeflag)}`), true);
    if (type !== 'file' && size !== 0) return this.refuse(libpodError('InvalidArg', `the archive has a ${type} entry with data`), true);
    if (all.some((r) => r.key.startsWith('GNU.sparse'))) return this.refuse(libpodError('InvalidArg', 'the archive has a sparse entry (not supported)'), true);
    const names = [h.name, this.longName, paxValue(all, 'path')].filter((n): n is string => n !== undefined);
    const entry: ArchiveEntry = {
      name: names[names.length - 1] as string,
      allNames: names,
      type,
      mode: h.mode,
      uid: Number(paxValue(all, 'uid') ?? h.uid),
      gid: Number(paxValue(all, 'gid') ?? h.gid),
      size,
      mtime: h.mtime,
      linkname: paxValue(all, 'linkpath') ?? this.longLink ?? h.linkname,
      devmajor: h.devmajor,
      devminor: h.devminor,
      pax,
    };
    const raw = [...this.meta, block];
    this.meta = [];
    this.metaBytes = 0;
    this.entryPax = [];
    this.longName = undefined;
    this.longLink = undefined;
    this.entries += 1;
    let action: EntryAction | undefined;
    try {
      action = await this.handler(entry);
    } catch (e) {
      return this.refuse(e as LibpodError, true);
    }
    this.dataLeft = padded(size);
    if (action?.drop) {
      this.forwardData = false;
      return;
    }
    if (action?.headers) this.output(action.headers);
    else for (const b of raw) this.output(b);
    this.forwardData = !action?.dropData;
    if (action?.append) {
      if (this.dataLeft === 0) this.output(action.append);
      else this.after = action.append;
    }
  }
}
