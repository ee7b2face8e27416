/**
 * Layer blobs come gzip-, zstd-compressed or as plain tar; the format is
 * detected from the first bytes (as containers/storage does), not trusted
 * from a media type. gzip uses node:zlib. zstd (Node 20's zlib has none)
 * uses the host's `zstd` tool when it is installed (setup-host installs it:
 * ~20x faster) and fzstd (pure JS, streaming) otherwise. Whatever the
 * decompressor, the caller checks the diffID of what comes out.
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Duplex, Readable, Transform, type TransformCallback } from 'node:stream';
import { streamCommand } from '../../host/command.js';
import { libpodError } from '../../define/errors.js';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** A blob's compression. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** The compression `head` (the blob's first bytes, at least 4) starts with. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A streaming zstd decompressor (fzstd) as a Transform. */
class ZstdDecompress extends Transform {
  readonly #z = new Decompress((data) => {
    if (data.length > 0) this.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#z.push(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.#z.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

let zstdTool: string | null | undefined;

/** The host's `zstd` binary, if it is on PATH (looked up once). */
function findZstd(): string | undefined {
  if (zstdTool === undefined) {
    zstdTool = null;
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      try {
        accessSync(join(dir, 'zstd'), constants.X_OK);
        zstdTool = join(dir, 'zstd');
        break;
      } catch {
        // not here
      }
    }
  }
  return zstdTool ?? undefined;
}

/** `zstd -dc` as a Duplex; a failing exit destroys it with `ImageCorrupt`. */
function zstdProcess(tool: string): Duplex {
  const cmd = streamCommand(tool, ['-d', '-c', '-q'], { notFoundCode: 'Internal' });
  const duplex = Duplex.from({ writable: cmd.stdin as NodeJS.WritableStream, readable: cmd.stdout }) as Duplex;
  void cmd.exited.match(
    (out) => {
      if (out.code !== 0) duplex.destroy(libpodError('ImageCorrupt', `zstd: ${out.stderr.trim() || `exit status ${out.code}`}`));
    },
    (e) => duplex.destroy(e),
  );
  duplex.once('close', () => cmd.kill());
  return duplex;
}

/** A stream that decompresses `c` (a pass-through for `'none'`). */
export function decompressor(c: Compression): Duplex {
  if (c === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  if (c === 'zstd') {
    const tool = findZstd();
    return tool ? zstdProcess(tool) : new ZstdDecompress();
  }
  return new Transform({ transform: (chunk, _e, cb) => cb(null, chunk) });
}

/** The pure-JS zstd decompressor, whatever the host has (tests compare both). */
export function jsZstdDecompressor(): Transform {
  return new ZstdDecompress();
}

/**
 * Reads the first `n` bytes of `src` (fewer when it is shorter) and returns
 * them with a stream that yields all of `src` again, from its first byte.
 */
export async function peek(src: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    first.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(first);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(all(), { objectMode: false }) };
}
