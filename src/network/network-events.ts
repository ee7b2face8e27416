/**
 * Network events (`'network'` type).
 * @module
 */
import type { LibpodEvent, NetworkEventStatus } from '../define/events.js';
import type { NetworkConfig } from './network-config.js';

/** A network event; `connect` / `disconnect` carry the container in `attributes.container`. */
export function networkEvent(c: Pick<NetworkConfig, 'id' | 'name'>, status: NetworkEventStatus, attributes: Record<string, string> = {}): LibpodEvent {
  return { type: 'network', status, id: c.id, name: c.name, time: new Date(), attributes };
}
