/**
 * Packing directory trees into tar streams (GNU tar; see `gnu-tar.ts`).
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { libpodError } from '../define/errors.js';
import { packArgs, tarOutput } from './gnu-tar.js';
import { TarScanner } from './tar-scanner.js';
import { toLayerForm } from './whiteouts.js';

/** Options of {@link packTree}. */
export interface PackOptions {
  /**
   * Only these paths (relative to the directory; directories with their
   * content), stored under the names given. Default: the whole tree, its
   * root stored as `./`.
   */
  entries?: readonly string[];
  /**
   * Store the whole tree under this directory name (`prefix/`, `prefix/a`,
   * ...): a plain relative path of letters, digits, `.`, `_`, `-` and `/`.
   * Not with `entries`.
   */
  prefix?: string;
  /**
   * `'overlay'`: the directory is an overlay upper (layer) directory; store
   * its whiteouts as the layer-tar form (`.wh.` files, `.wh..wh..opq`) and
   * leave out overlay's `trusted.overlay.*` xattrs (see `whiteouts.ts`).
   */
  whiteouts?: 'overlay';
}

function failed(e: unknown): Readable {
  const out = new PassThrough();
  process.nextTick(() => out.destroy(e as Error));
  return out;
}

/**
 * A tar stream (PAX) of `dir` that keeps the tree whole: regular files,
 * directories, symlinks (never followed), hard links as links, FIFOs, char
 * and block devices, xattrs (`SCHILY.xattr.*`), numeric uid / gid, all mode
 * bits, mtimes. Sockets are left out (GNU tar: "socket ignored"). The same
 * tree gives the same bytes (names sorted). Errors, such as an unreadable
 * file, a missing directory or GNU tar not installed, destroy the stream
 * with a `LibpodError`. Destroying the stream stops GNU tar.
 */
export function packTree(dir: string, opts: PackOptions = {}): Readable {
  if (opts.prefix !== undefined && (opts.entries || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(opts.prefix) || opts.prefix.split('/').some((p) => p === '.' || p === '..'))) {
    return failed(libpodError('InvalidArg', `pack prefix ${JSON.stringify(opts.prefix)} must be a plain relative path, without entries`));
  }
  const input = opts.entries ? Buffer.from(opts.entries.map((e) => `${e}\0`).join(''), 'utf8') : undefined;
  const raw = tarOutput(packArgs(dir, { entries: opts.entries !== undefined, ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) }), input);
  if (opts.whiteouts !== 'overlay') return raw;
  const scanner = new TarScanner((entry) => toLayerForm(entry));
  const out = new PassThrough();
  pipeline(raw, scanner, out).catch((e: unknown) => out.destroy(e as Error));
  scanner.on('end', () => {
    if (scanner.refusal) out.destroy(scanner.refusal);
  });
  return out;
}

/** One directory of {@link packTrees}. */
export interface PackSource extends Omit<PackOptions, 'whiteouts'> {
  dir: string;
}

/**
 * One tar stream of several trees, one after the other (each as
 * {@link packTree} packs it; give them distinct `prefix`es or `entries`).
 */
export function packTrees(sources: readonly PackSource[]): Readable {
  const out = new PassThrough();
  void (async () => {
    for (const [i, { dir, ...opts }] of sources.entries()) {
      const last = i === sources.length - 1;
      // every archive but the last loses its end-of-archive marker
      const part = new TarScanner(() => undefined, { terminate: last });
      await pipeline(packTree(dir, opts), part, out, { end: last });
      if (part.refusal) throw part.refusal;
    }
    if (sources.length === 0) out.end(Buffer.alloc(1024));
  })().catch((e: unknown) => out.destroy(e as Error));
  return out;
}
