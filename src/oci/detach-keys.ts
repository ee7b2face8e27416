/**
 * Detach keys as podman reads them (`'ctrl-p,ctrl-q'`: comma-separated,
 * each a single character or `ctrl-<key>`), and a matcher that removes them
 * from a stdin byte stream.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { DEFAULT_DETACH_KEYS } from '../define/streams.js';

/** `ctrl-<key>` codes beyond the letters (as moby's `term.ToBytes`). */
const CTRL_SPECIAL: Readonly<Record<string, number>> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

function keyCode(key: string): number | undefined {
  if (key.length === 1) return key.charCodeAt(0);
  const m = /^ctrl-(.)$/i.exec(key);
  if (!m) return undefined;
  const k = (m[1] as string).toLowerCase();
  if (k >= 'a' && k <= 'z') return k.charCodeAt(0) - 96;
  return CTRL_SPECIAL[k];
}

/**
 * Parses a detach key sequence into bytes: `undefined` gives the default
 * (`ctrl-p,ctrl-q`), `''` disables detaching (an empty array).
 * An unknown key is `InvalidArg`.
 */
export function parseDetachKeys(keys: string | undefined): Result<number[], LibpodError> {
  const text = keys ?? DEFAULT_DETACH_KEYS;
  if (text === '') return ok([]);
  const codes: number[] = [];
  for (const key of text.split(',')) {
    const code = keyCode(key);
    if (code === undefined) return err(libpodError('InvalidArg', `invalid detach keys "${text}": unknown character: '${key}'`));
    codes.push(code);
  }
  return ok(codes);
}

/** What {@link DetachMatcher.feed} found in a chunk. */
export interface DetachScan {
  /** The bytes to deliver (detach keys held back or removed). */
  data: Buffer;
  /** Whether the full detach sequence was typed. */
  detached: boolean;
}

/**
 * Finds a detach sequence across chunks: bytes that could start the
 * sequence are held back until it either completes (they are dropped and
 * the session detaches) or breaks (they are delivered after all).
 */
export class DetachMatcher {
  private matched = 0;

  constructor(private readonly keys: readonly number[]) {}

  /** Scans one chunk; after `detached`, the rest of the chunk is dropped. */
  feed(chunk: Buffer): DetachScan {
    if (this.keys.length === 0) return { data: chunk, detached: false };
    // Fast path for bulk input: nothing held and no byte that could start the sequence.
    if (this.matched === 0 && chunk.indexOf(this.keys[0] as number) < 0) return { data: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      // Held bytes plus this one; release from the front until what is left could still start the sequence.
      const pending = [...this.keys.slice(0, this.matched), byte];
      while (pending.length > 0 && !this.isPrefix(pending)) out.push(pending.shift() as number);
      this.matched = pending.length;
      if (this.matched === this.keys.length) {
        this.matched = 0;
        return { data: Buffer.from(out), detached: true };
      }
    }
    return { data: Buffer.from(out), detached: false };
  }

  /** At the end of input: the held bytes that never completed the sequence, to deliver after all. */
  flush(): Buffer {
    const held = Buffer.from(this.keys.slice(0, this.matched));
    this.matched = 0;
    return held;
  }

  private isPrefix(bytes: readonly number[]): boolean {
    return bytes.every((b, i) => this.keys[i] === b);
  }
}
