/**
 * Reading an image's parts from the store: record, parsed config, layers.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { EngineContext } from '../engine/context.js';
import { parseImageConfig, type ImageConfig } from './formats/config.js';
import type { ImageStore } from './store/image-store.js';
import type { ImageRecord, LayerRecord } from './store/records.js';

/** An image's record with its parsed config and layer records. */
export interface ImageData {
  rec: ImageRecord;
  config: ImageConfig;
  layers: LayerRecord[];
}

/** The parsed config of `rec`. */
export function imageConfigOf(store: ImageStore, rec: ImageRecord): ResultAsync<ImageConfig, LibpodError> {
  return store.blobBytes(rec.configDigest).andThen((bytes) => {
    const parsed = parseImageConfig(bytes);
    return parsed.isOk() ? okAsync(parsed.value) : errAsync(parsed.error);
  });
}

/** Record, config and layers of image `id`. */
export function imageData(ctx: EngineContext, id: string): ResultAsync<ImageData, LibpodError> {
  return ctx.imageStore().andThen((store) =>
    store.image(id).andThen((rec) =>
      ResultAsync.combine([imageConfigOf(store, rec), ResultAsync.combine(rec.layers.map((l) => store.layer(l)))]).map(([config, layers]) => ({ rec, config, layers })),
    ),
  );
}
