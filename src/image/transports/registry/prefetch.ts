/**
 * Concurrent layer downloads, as c/image's copy does them (several blobs at
 * once, committed in order). The store takes a pulled image's layers one
 * after the other (each extraction needs its parent), so while one layer
 * streams from the registry into the store, the next needed ones (at most
 * `ahead` at a time) download into temporaries in the store's tmp dir. A
 * prefetched layer's `open` waits for its download and streams the file,
 * removed once read. The first layer streams straight from the registry, so
 * a one-layer image costs nothing more.
 *
 * Nothing here is trusted: the store checks the digest and size of what it
 * reads. Temporaries are named `<pid>-prefetch-...`: if the process dies,
 * the store's next open sweeps them.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ResultAsync } from 'neverthrow';
import { toLibpodError, type LibpodError } from '../../../define/errors.js';
import type { SourceLayer } from '../types.js';

/** Downloads ahead of the layer being stored (c/image downloads up to 6 blobs at once). */
export const PREFETCH_AHEAD = 3;

/** Layers with downloads ahead, and the clean-up of what was not consumed. */
export interface Prefetched {
  layers: SourceLayer[];
  /** Stops downloads still running and removes temporaries not read. Idempotent. */
  close(): Promise<void>;
}

interface Download {
  file: string;
  done: Promise<void>;
  stream?: Readable;
  consumed: boolean;
}

/**
 * Wraps `layers` so that opening one starts the downloads of the next
 * `needed` ones (up to `ahead` beyond it) into `tmpDir`.
 */
export function prefetchLayers(layers: readonly SourceLayer[], needed: readonly boolean[], tmpDir: string, ahead = PREFETCH_AHEAD): Prefetched {
  const downloads = new Map<number, Download>();
  let closed = false;
  const wanted = layers.map((_, i) => i).filter((i) => needed[i] === true);

  const start = (i: number): void => {
    const layer = layers[i];
    if (closed || downloads.has(i) || !layer) return;
    const file = join(tmpDir, `${process.pid}-prefetch-${randomBytes(6).toString('hex')}`);
    const d: Download = { file, consumed: false, done: Promise.resolve() };
    d.done = (async () => {
      const r = await layer.open();
      if (r.isErr()) throw r.error;
      d.stream = r.value;
      await pipeline(r.value, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    })();
    d.done.catch(() => undefined);
    downloads.set(i, d);
  };

  /** Starts the downloads of the needed layers after `i`, `ahead` of it. */
  const pump = (i: number): void => {
    for (const j of wanted.filter((w) => w > i).slice(0, ahead)) start(j);
  };

  const wrapped = layers.map(
    (layer, i): SourceLayer => ({
      ...layer,
      open: () => {
        pump(i);
        const d = downloads.get(i);
        if (!d) return layer.open();
        d.consumed = true;
        return ResultAsync.fromPromise(
          d.done.then(() => {
            const s = createReadStream(d.file, { highWaterMark: 256 * 1024 });
            s.once('close', () => void rm(d.file, { force: true }));
            return s as Readable;
          }),
          (e) => {
            void rm(d.file, { force: true });
            return toLibpodError(e, 'Registry', `downloading layer ${layer.blob.digest}`) as LibpodError;
          },
        );
      },
    }),
  );

  return {
    layers: wrapped,
    close: async () => {
      closed = true;
      for (const d of downloads.values()) {
        if (d.consumed) continue;
        d.stream?.destroy();
        await d.done.catch(() => undefined);
        await rm(d.file, { force: true });
      }
    },
  };
}
