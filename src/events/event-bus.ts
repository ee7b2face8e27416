/**
 * The one home of `eventemitter3`: the typed bus behind `runtime.events`.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { LibpodEvent, RuntimeEvents } from '../define/events.js';

/** The typed emitter exposed as `runtime.events`. */
export class RuntimeEventEmitter extends EventEmitter<RuntimeEvents> {}

/**
 * Delivers an event to listeners. A throwing listener must not break the
 * engine (events are emitted after the state was committed and unlocked), so
 * its error is reported on the next tick instead of unwinding into the engine.
 */
export function deliver(emitter: RuntimeEventEmitter, event: LibpodEvent): void {
  try {
    emitter.emit(event.type, event);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
