/**
 * `'image'` events (podman's image events: pull, push, tag, untag, remove,
 * load, save, commit, prune).
 * @module
 */
import type { ImageEventStatus, LibpodEvent } from '../define/events.js';

/** An image event about image `id`; `name` is the name it concerns (or its first name, or `''`). */
export function imageEvent(status: ImageEventStatus, id: string, name = '', attributes: Record<string, string> = {}): LibpodEvent {
  return { type: 'image', status, id, name, time: new Date(), attributes };
}
