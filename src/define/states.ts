/**
 * Container states and the transition table (libpod's `define.ContainerStatus`).
 *
 * | state        | meaning                                                         |
 * | ------------ | --------------------------------------------------------------- |
 * | `configured` | in the store only; the OCI runtime knows nothing of it           |
 * | `created`    | exists in the OCI runtime, process not started                   |
 * | `running`    | its process runs                                                 |
 * | `paused`     | its processes are frozen                                         |
 * | `stopped`    | its process exited; still present in the OCI runtime             |
 * | `exited`     | stopped, then removed from the OCI runtime (cleaned up)          |
 * | `removing`   | removal has begun                                                |
 * | `unknown`    | the runtime reported something libpod-ts cannot interpret        |
 *
 * @module
 */

/** One of the eight container states. */
export type ContainerState =
  | 'configured'
  | 'created'
  | 'running'
  | 'stopped'
  | 'paused'
  | 'exited'
  | 'removing'
  | 'unknown';

/** All container states, in lifecycle order. */
export const CONTAINER_STATES: readonly ContainerState[] = [
  'configured',
  'created',
  'running',
  'paused',
  'stopped',
  'exited',
  'removing',
  'unknown',
];

/**
 * The verbs of the container lifecycle and the states each accepts, as the
 * seeds' `ensureState` checks have them. This is the one place the state
 * machine is written down; the lifecycle operations consult it.
 *
 * | verb       | allowed from                                    | ends in               |
 * | ---------- | ----------------------------------------------- | --------------------- |
 * | init       | configured, stopped, exited                     | created               |
 * | start      | configured, created, stopped, exited            | running               |
 * | stop       | created, running (stopped/exited: `CtrStopped`) | stopped               |
 * | kill       | running                                         | stopped (on exit)     |
 * | pause      | running                                         | paused                |
 * | unpause    | paused                                          | running               |
 * | restart    | configured, created, running, stopped, exited   | running               |
 * | attach     | created, running                                | -                     |
 * | exec       | running                                         | -                     |
 * | cleanup    | configured, created, stopped, exited            | configured / exited   |
 * | checkpoint | running                                         | exited (or running)   |
 * | restore    | configured, exited                              | running               |
 * | remove     | any but running/paused/unknown, unless forced   | (gone)                |
 */
export const TRANSITIONS = {
  init: ['configured', 'stopped', 'exited'],
  start: ['configured', 'created', 'stopped', 'exited'],
  stop: ['created', 'running'],
  kill: ['running'],
  pause: ['running'],
  unpause: ['paused'],
  restart: ['configured', 'created', 'running', 'stopped', 'exited'],
  attach: ['created', 'running'],
  resize: ['created', 'running'],
  exec: ['running'],
  cleanup: ['configured', 'created', 'stopped', 'exited'],
  checkpoint: ['running'],
  restore: ['configured', 'exited'],
} as const satisfies Record<string, readonly ContainerState[]>;

/** A verb of {@link TRANSITIONS}. */
export type LifecycleVerb = keyof typeof TRANSITIONS;

/** Whether `state` is one of `states` (libpod's `ensureState`). */
export function inState(state: ContainerState, ...states: readonly ContainerState[]): boolean {
  return states.includes(state);
}

/** Whether `verb` may run on a container in `state`. */
export function allows(verb: LifecycleVerb, state: ContainerState): boolean {
  return (TRANSITIONS[verb] as readonly ContainerState[]).includes(state);
}

/** Whether `value` is a {@link ContainerState}. */
export function isContainerState(value: unknown): value is ContainerState {
  return typeof value === 'string' && (CONTAINER_STATES as readonly string[]).includes(value);
}
