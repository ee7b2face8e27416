/**
 * A storage driver: how layers and containers' writable layers become
 * directories (containers/storage's graph drivers, reduced to what the store
 * needs). The store keeps the records and locks; a driver only touches its
 * own directories and MUST make every operation idempotent (a retry after a
 * crash finds half-made directories and redoes them).
 * @module
 */
import type { Readable } from 'node:stream';
import type { StorageDriverName } from '../layout.js';

/** What a driver does with layers and container layers. */
export interface StorageDriver {
  readonly name: StorageDriverName;
  /** Creates the driver's directories (at store open). */
  init(): Promise<void>;
  /**
   * Makes layer `id` on top of the complete layer `parent` from the
   * uncompressed layer tar `tar` (whiteouts as `.wh.` markers). Anything of
   * an earlier attempt at `id` is replaced. Rejects with the stream's error or
   * an `ImageCorrupt` LibpodError.
   */
  applyLayer(id: string, parent: string | undefined, tar: Readable): Promise<void>;
  /** Removes layer `id`'s directories; missing is fine. */
  removeLayer(id: string): Promise<void>;
  /** Creates container `id`'s writable layer on top of `layers` (chain ids, base first). */
  createContainer(id: string, layers: readonly string[]): Promise<void>;
  /** Mounts (if needed) and returns the container's root filesystem path. */
  mountContainer(id: string, layers: readonly string[]): Promise<string>;
  /** Unmounts the container's root filesystem; not mounted is fine. */
  unmountContainer(id: string): Promise<void>;
  /** Unmounts and removes container `id`'s layer; missing is fine. */
  removeContainer(id: string): Promise<void>;
  /** The directory holding the container's own changes (overlay: the upper dir; vfs: its full copy). */
  containerChangesDir(id: string): string;
  /** Names (directory entries) the driver owns, for sweeping orphans at open. */
  layerIds(): Promise<string[]>;
  /** Container ids that have directories. */
  containerIds(): Promise<string[]>;
}
