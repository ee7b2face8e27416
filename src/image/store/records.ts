/**
 * The records the image store persists (one JSON file each, written
 * atomically). Times are ISO-8601 strings; digests are `sha256:<hex>`.
 * @module
 */

/** A layer, stored once by chain id and shared by every image that has it. */
export interface LayerRecord {
  /** Chain id hex: the diffID for a base layer, else sha256(`<parent chain id> <diffID>`). */
  id: string;
  /** Parent layer's chain id hex; absent for a base layer. */
  parent?: string;
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  diffSize: number;
  /** Number of layers from the base to this one (1 for a base layer). */
  depth: number;
  createdAt: string;
  /** Set until the content is complete: such a layer is never used, and swept once its writer is gone. */
  incomplete?: boolean;
}

/** An image: config + manifest blobs and the layers its config lists. */
export interface ImageRecord {
  /** The config digest's hex (podman's image id). */
  id: string;
  /** Fully qualified names (`docker.io/library/busybox:latest`); unique across the store's images. */
  names: string[];
  /** `sha256:` of the manifest it was pulled or loaded by. */
  digest: string;
  /** Every manifest digest this image is known by (the first is `digest`; an index it was pulled from is one). */
  digests: string[];
  /** Media type of the stored manifest. */
  manifestMediaType: string;
  /** `sha256:<id>`. */
  configDigest: string;
  /** Chain ids of its layers, base first. */
  layers: string[];
  /** The blob digests of the layers as the manifest lists them, base first. */
  layerBlobs: string[];
  /** When the image was stored. */
  createdAt: string;
}

/** A container's writable layer (on top of its image's layers). */
export interface ContainerLayerRecord {
  /** The container's id. */
  id: string;
  /** The image it was made from. */
  imageId: string;
  /** Chain ids of the image's layers, base first (the container's lowers). */
  layers: string[];
  /** Who made it (a Runtime's root): lets that Runtime tell its orphans (a crash between the layer and its container record) from other Runtimes' containers. */
  owner?: string;
  createdAt: string;
  /** Set until its directories exist: swept at open. */
  incomplete?: boolean;
}
