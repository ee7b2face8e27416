/**
 * Event shapes: what `runtime.events` emits and `runtime.readEvents` returns.
 * @module
 */

/** What an event is about. */
export type EventType = 'container' | 'pod' | 'volume' | 'network' | 'system' | 'image';

/** Container event statuses (libpod's `events.Status` names). */
export type ContainerEventStatus =
  | 'create' | 'init' | 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'restart' | 'died'
  | 'cleanup' | 'remove' | 'sync' | 'refresh' | 'mount' | 'unmount' | 'exec' | 'exec_died'
  | 'attach' | 'checkpoint' | 'restore' | 'export' | 'health_status';

/** Pod event statuses. */
export type PodEventStatus = 'create' | 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'restart' | 'remove' | 'prune';

/** Volume event statuses. */
export type VolumeEventStatus = 'create' | 'mount' | 'unmount' | 'remove' | 'prune';

/** Network event statuses (`connect` and `disconnect` carry the container in `attributes.container`). */
export type NetworkEventStatus = 'create' | 'remove' | 'connect' | 'disconnect' | 'prune';

/** System event statuses. */
export type SystemEventStatus = 'refresh' | 'renumber' | 'open' | 'close' | 'log-rotation';

/** Image event statuses. */
export type ImageEventStatus = 'pull' | 'push' | 'tag' | 'untag' | 'remove' | 'load' | 'save' | 'commit' | 'prune';

/** Any event status. */
export type EventStatus = ContainerEventStatus | PodEventStatus | VolumeEventStatus | NetworkEventStatus | SystemEventStatus | ImageEventStatus;

/** One event. `died` events carry `exitCode`. */
export interface LibpodEvent {
  type: EventType;
  status: EventStatus;
  /** Container, pod, network or image id, volume name, or `''` for system events. */
  id: string;
  name: string;
  time: Date;
  exitCode?: number;
  attributes: Record<string, string>;
}

/** The typed event map of `runtime.events` (eventemitter3). */
export interface RuntimeEvents {
  container: (event: LibpodEvent) => void;
  pod: (event: LibpodEvent) => void;
  volume: (event: LibpodEvent) => void;
  network: (event: LibpodEvent) => void;
  system: (event: LibpodEvent) => void;
  image: (event: LibpodEvent) => void;
}

/** Which events `readEvents` returns; each given field must match (arrays: any of). */
export interface EventFilter {
  type?: EventType | EventType[];
  status?: EventStatus | EventStatus[];
  /** Full id or name of the object. */
  id?: string | string[];
  name?: string | string[];
  /** Label or attribute values (`{ key: value }`). */
  attributes?: Record<string, string>;
}

/** Options of `runtime.readEvents`. */
export interface ReadEventsOptions {
  since?: Date;
  until?: Date;
  filter?: EventFilter;
}
