/**
 * Content digests (`sha256:<64 hex>`) and a streaming verifier.
 *
 * Only sha256 is accepted, as podman's storage does by default; any other
 * algorithm in an archive or manifest is `ImageCorrupt` (in data) or
 * `InvalidArg` (from a caller).
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type ErrorCode, type LibpodError } from '../../define/errors.js';

/** A `sha256:<64 lowercase hex>` string. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Whether `s` is a well-formed sha256 digest. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** `s` as a {@link Digest}, or `code` (default `ImageCorrupt`) naming `what`. */
export function parseDigest(s: unknown, what = 'digest', code: ErrorCode = 'ImageCorrupt'): Result<Digest, LibpodError> {
  return isDigest(s) ? ok(s) : err(libpodError(code, `${what}: ${JSON.stringify(s)} is not a sha256 digest`));
}

/** The hex part of a digest: the image id of a config digest. */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** The sha256 digest of `data`. */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * A layer stack's chain id (OCI image-spec): the first layer's is its
 * diffID, each next one `sha256(parent + " " + diffID)`.
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? d : sha256Digest(`${parent} ${d}`));
  }
  return out;
}

/** What a {@link DigestMeter} saw pass. */
export interface Measured {
  digest: Digest;
  size: number;
}

/**
 * A pass-through that hashes and counts what flows; {@link DigestMeter.result}
 * is valid after the stream ended.
 */
export class DigestMeter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #digest: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#digest = `sha256:${this.#hash.digest('hex')}`;
    this.onFlush(this.#digest, this.#size, cb);
  }

  /** Called once at the end; a subclass may fail the stream here. */
  protected onFlush(_digest: Digest, _size: number, cb: TransformCallback): void {
    cb();
  }

  /** Digest and size of everything that passed; undefined before the end. */
  get result(): Measured | undefined {
    return this.#digest === undefined ? undefined : { digest: this.#digest, size: this.#size };
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#size;
  }
}

/**
 * A pass-through that fails with `ImageCorrupt` when what flows does not
 * have the `expected` digest, or (when given) the expected size: more
 * bytes than expected fail at once, fewer or a wrong digest at the end.
 * Consumers must treat the data as untrusted until the stream finished
 * without error.
 */
export class DigestVerifier extends DigestMeter {
  readonly #expected: Digest;
  readonly #size: number | undefined;
  readonly #what: string;

  constructor(expected: Digest, size?: number, what = 'blob') {
    super();
    this.#expected = expected;
    this.#size = size !== undefined && size >= 0 ? size : undefined;
    this.#what = what;
  }

  override _transform(chunk: Buffer, enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#size !== undefined && this.bytes + chunk.length > this.#size) {
      cb(libpodError('ImageCorrupt', `${this.#what} ${this.#expected}: more data than its size ${this.#size}`));
      return;
    }
    super._transform(chunk, enc, cb);
  }

  protected override onFlush(digest: Digest, size: number, cb: TransformCallback): void {
    if (this.#size !== undefined && size !== this.#size) {
      cb(libpodError('ImageCorrupt', `${this.#what} ${this.#expected}: size ${size}, expected ${this.#size} (truncated)`));
    } else if (digest !== this.#expected) {
      cb(libpodError('ImageCorrupt', `${this.#what}: digest ${digest}, expected ${this.#expected}`));
    } else cb();
  }
}

/** Checks `data` against a digest and optional size; `ImageCorrupt` on mismatch. */
export function verifyBytes(data: Uint8Array, expected: Digest, size?: number, what = 'blob'): Result<void, LibpodError> {
  if (size !== undefined && size >= 0 && data.length !== size) {
    return err(libpodError('ImageCorrupt', `${what} ${expected}: size ${data.length}, expected ${size}`));
  }
  const got = sha256Digest(data);
  return got === expected ? ok(undefined) : err(libpodError('ImageCorrupt', `${what}: digest ${got}, expected ${expected}`));
}
