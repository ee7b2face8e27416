/**
 * Where the image store keeps things. Pure path arithmetic.
 *
 * ```
 * <storage>/                         default <root>/storage
 *   driver                           'overlay' or 'vfs': fixed when the store is made
 *   layers/<chainId>.json            LayerRecord (id = chain id hex); `incomplete` until committed
 *   images/<imageId>.json            ImageRecord (id = config digest hex)
 *   containers/<ctrId>.json          ContainerLayerRecord: a container's writable layer
 *   blobs/sha256/<hex>               blobs as they came (layer blobs, configs, manifests), byte-exact
 *   overlay/<chainId>/diff           overlay: the layer's own files (whiteouts as char 0/0, opaque xattr)
 *   overlay/<chainId>/link           its short link name: overlay/l/<link> -> ../<chainId>/diff
 *   overlay/<chainId>/lower          its lowers, top first, as `l/<link>:l/<link>...`
 *   overlay/l/<link>                 short links, so a mount of 100+ layers fits in a page
 *   overlay-containers/<ctrId>/      diff (upper), work, merged, lower
 *   vfs/<chainId>/                   vfs: a full copy of the tree at that layer
 *   vfs-containers/<ctrId>/rootfs    vfs: the container's own full copy
 *   tmp/                             staging (temporaries of dead writers are swept at open)
 * ```
 * @module
 */
import { join } from 'node:path';

/** The storage drivers. */
export type StorageDriverName = 'overlay' | 'vfs';

/** Every directory of a store rooted at `root`. */
export interface StoreLayout {
  root: string;
  driverFile: string;
  layers: string;
  images: string;
  containers: string;
  blobs: string;
  tmp: string;
}

/** The layout of the store at `root`. */
export function storeLayout(root: string): StoreLayout {
  return {
    root,
    driverFile: join(root, 'driver'),
    layers: join(root, 'layers'),
    images: join(root, 'images'),
    containers: join(root, 'containers'),
    blobs: join(root, 'blobs', 'sha256'),
    tmp: join(root, 'tmp'),
  };
}

/** `<dir>/<id>.json`. */
export function recordPath(dir: string, id: string): string {
  return join(dir, `${id}.json`);
}
