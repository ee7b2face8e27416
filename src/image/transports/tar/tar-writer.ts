/**
 * A streaming writer of tar files of blobs (docker-archive, oci-archive):
 * regular files from buffers or streams of known size, symlinks and
 * directories, in ustar (pax records for names that do not fit), with
 * owner 0:0 and mtime 0 as c/image writes them. Backpressure is honoured,
 * so a layer flows through without being held.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { libpodError } from '../../../define/errors.js';

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

function octalField(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
}

function splitName(name: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { name: rest, prefix };
  }
  return undefined;
}

function header(name: string, type: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  const split = splitName(name) ?? { name: name.slice(0, 100), prefix: '' };
  h.write(split.name, 0, 100, 'utf8');
  octalField(h, 100, 8, mode);
  octalField(h, 108, 8, 0);
  octalField(h, 116, 8, 0);
  octalField(h, 124, 12, size);
  octalField(h, 136, 12, 0);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write(linkname.slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(split.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const b = Buffer.byteLength(body);
  let len = b + 1;
  while (len !== b + String(len).length) len = b + String(len).length;
  return `${len}${body}`;
}

/** Writes tar members to `out`, one at a time (callers await each). */
export class TarWriter {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  async #write(buf: Buffer): Promise<void> {
    if (this.#out.destroyed) throw libpodError('Internal', 'tar output closed');
    if (!this.#out.write(buf)) {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: Error): void => {
          this.#out.off('drain', ok);
          this.#out.off('error', done);
          this.#out.off('close', closed);
          if (e) reject(e);
          else resolve();
        };
        const ok = (): void => done();
        const closed = (): void => done(libpodError('Internal', 'tar output closed'));
        this.#out.once('drain', ok);
        this.#out.once('error', done);
        this.#out.once('close', closed);
      });
    }
  }

  async #header(name: string, type: string, size: number, mode: number, linkname = ''): Promise<void> {
    if (splitName(name) === undefined || Buffer.byteLength(linkname) > 100) {
      let pax = '';
      if (splitName(name) === undefined) pax += paxRecord('path', name);
      if (Buffer.byteLength(linkname) > 100) pax += paxRecord('linkpath', linkname);
      const data = Buffer.from(pax);
      await this.#write(header('PaxHeader', 'x', data.length, 0o644));
      await this.#write(data);
      await this.#pad(data.length);
    }
    await this.#write(header(name, type, size, mode, linkname));
  }

  async #pad(size: number): Promise<void> {
    const rem = size % BLOCK;
    if (rem !== 0) await this.#write(ZEROS.subarray(0, BLOCK - rem));
  }

  /** A regular file with `data`. */
  async addBuffer(name: string, data: Buffer): Promise<void> {
    await this.#header(name, '0', data.length, 0o644);
    await this.#write(data);
    await this.#pad(data.length);
  }

  /**
   * A regular file of `size` bytes read from `src`; a source with more or
   * fewer bytes fails (the archive is then unusable: callers discard it).
   */
  async addStream(name: string, size: number, src: Readable): Promise<void> {
    await this.#header(name, '0', size, 0o644);
    let n = 0;
    for await (const chunk of src as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > size) throw libpodError('Internal', `${name}: source has more than ${size} bytes`);
      await this.#write(chunk);
    }
    if (n !== size) throw libpodError('Internal', `${name}: source has ${n} bytes, expected ${size}`);
    await this.#pad(size);
  }

  /** A symlink. */
  async addSymlink(name: string, target: string): Promise<void> {
    await this.#header(name, '2', 0, 0o777, target);
  }

  /** A directory. */
  async addDir(name: string): Promise<void> {
    await this.#header(name.endsWith('/') ? name : `${name}/`, '5', 0, 0o755);
  }

  /** Writes the end-of-archive blocks and ends `out`, resolving once it has flushed. */
  async finish(): Promise<void> {
    await this.#write(ZEROS);
    await new Promise<void>((resolve, reject) => {
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
  }
}
