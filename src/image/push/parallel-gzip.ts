/**
 * gzip on several threads, as c/image's push does with klauspost/pgzip:
 * the input is cut into blocks of {@link BLOCK_SIZE}; each block is
 * deflated on libuv's thread pool (`zlib.deflateRaw`, async) with the
 * previous block's last 32 KiB as its dictionary and a sync flush, so the
 * deflate streams concatenate into ONE gzip member (any gunzip reads it)
 * that is nearly as small as a single-threaded one. The CRC-32 and size
 * of the trailer are computed in order on the main thread.
 *
 * Memory stays bounded: at most {@link MAX_IN_FLIGHT} blocks are being
 * compressed at once; the stream waits for the oldest before taking more.
 * The output is a function of the input and level alone (same blocks,
 * same zlib), so the same layer compresses to the same digest every time.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** Bytes of input per block (pgzip's default is 1 MB too). */
export const BLOCK_SIZE = 1024 * 1024;
/** Blocks compressed at once (the thread pool has 4 threads by default). */
export const MAX_IN_FLIGHT = 8;
/** Output buffer of one block's deflate: a block never grows by more than deflate's stored-block overhead. */
const OUT_CHUNK = BLOCK_SIZE + 64 * 1024;
/** Deflate's window: the dictionary a block gets from its predecessor. */
const WINDOW = 32 * 1024;

const deflateRaw = promisify<zlib.InputType, zlib.ZlibOptions, Buffer>(zlib.deflateRaw);

/** gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (as Go's gzip writes it). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

/** A gzip compressor that uses the thread pool (see the module comment). */
export class ParallelGzip extends Transform {
  readonly #level: number;
  #block: Buffer = Buffer.allocUnsafe(BLOCK_SIZE);
  #fill = 0;
  #prevTail: Buffer | undefined;
  #crc = 0;
  #size = 0;
  readonly #queue: { out: Promise<Buffer>; input: Buffer }[] = [];
  /** Input blocks whose deflate finished, for reuse (fewer large allocations, less GC). */
  readonly #free: Buffer[] = [];
  #started = false;

  /** `level`: zlib's 1-9 (default 6, as gzip's and pgzip's default). */
  constructor(level = 6) {
    super({ highWaterMark: BLOCK_SIZE });
    this.#level = level;
  }

  #dispatch(final: boolean): void {
    const data = this.#block.subarray(0, this.#fill);
    this.#crc = zlib.crc32(data, this.#crc);
    this.#size += data.length;
    // one output buffer per block: zlib's default 16 KiB chunks would cost a thread-pool round trip each
    const opts: zlib.ZlibOptions = { level: this.#level, chunkSize: OUT_CHUNK, finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
    if (this.#prevTail) opts.dictionary = this.#prevTail;
    // zlib copies the dictionary when the stream is made (here, synchronously): the block it came from may be reused after its own deflate
    const p = deflateRaw(data, opts);
    // a rejection is handled where the queue is drained; keep it from being reported as unhandled meanwhile
    p.catch(() => undefined);
    this.#queue.push({ out: p, input: this.#block });
    // only the last block may be short, and nothing follows it
    this.#prevTail = data.subarray(Math.max(0, data.length - WINDOW));
    this.#block = this.#free.pop() ?? Buffer.allocUnsafe(BLOCK_SIZE);
    this.#fill = 0;
  }

  async #drain(keep: number): Promise<void> {
    while (this.#queue.length > keep) {
      const head = this.#queue.shift() as { out: Promise<Buffer>; input: Buffer };
      const out = await head.out;
      this.#free.push(head.input);
      if (!this.#started) {
        this.#started = true;
        this.push(HEADER);
      }
      this.push(out);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, BLOCK_SIZE - this.#fill);
      chunk.copy(this.#block, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === BLOCK_SIZE) this.#dispatch(false);
    }
    this.#drain(MAX_IN_FLIGHT - 1).then(() => cb(), (e: Error) => cb(e));
  }

  override _flush(cb: TransformCallback): void {
    this.#dispatch(true);
    this.#drain(0).then(
      () => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.#crc >>> 0, 0);
        trailer.writeUInt32LE(this.#size % 0x1_0000_0000, 4);
        this.push(trailer);
        cb();
      },
      (e: Error) => cb(e),
    );
  }
}
