/**
 * The one home of `eventemitter3`: the typed bus behind `runtime.events`.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { LibpodEvent, RuntimeEvents } from '../define/events.js';
import { logger } from '../util/log.js';

const log = logger('events');

type Listener = (event: LibpodEvent) => void;
type EventName = keyof RuntimeEvents;

/**
 * The typed emitter exposed as `runtime.events`. Events are emitted after the
 * state was committed and unlocked, so a listener that throws must neither
 * keep the event from the other listeners nor break the engine: each listener
 * runs guarded, and its error is logged (`DEBUG=libpod:events`) and reported
 * as a process warning, never rethrown.
 */
export class RuntimeEventEmitter extends EventEmitter<RuntimeEvents> {
  readonly #guarded = new WeakMap<Listener, Listener>();

  #guard(fn: Listener): Listener {
    let g = this.#guarded.get(fn);
    if (!g) {
      g = (event: LibpodEvent): void => {
        try {
          fn(event);
        } catch (e) {
          log('a %s event listener threw: %O', event.type, e);
          process.emitWarning(`libpod-ts: a ${event.type} event listener threw: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      this.#guarded.set(fn, g);
    }
    return g;
  }

  override on<T extends EventName>(event: T, fn: RuntimeEvents[T], context?: unknown): this {
    return super.on(event, this.#guard(fn) as RuntimeEvents[T], context);
  }

  override addListener<T extends EventName>(event: T, fn: RuntimeEvents[T], context?: unknown): this {
    return this.on(event, fn, context);
  }

  override once<T extends EventName>(event: T, fn: RuntimeEvents[T], context?: unknown): this {
    return super.once(event, this.#guard(fn) as RuntimeEvents[T], context);
  }

  override off<T extends EventName>(event: T, fn?: RuntimeEvents[T], context?: unknown, once?: boolean): this {
    return super.off(event, fn ? ((this.#guarded.get(fn) ?? fn) as RuntimeEvents[T]) : undefined, context, once);
  }

  override removeListener<T extends EventName>(event: T, fn?: RuntimeEvents[T], context?: unknown, once?: boolean): this {
    return this.off(event, fn, context, once);
  }
}

/** Delivers an event to its listeners (each guarded, see {@link RuntimeEventEmitter}). */
export function deliver(emitter: RuntimeEventEmitter, event: LibpodEvent): void {
  emitter.emit(event.type, event);
}
