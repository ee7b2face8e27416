/**
 * Backpressure from the caller's output streams to the attach connection:
 * a `write()` that returns false pauses the source until that stream
 * drains; with several streams waiting (stdout and stderr) it resumes only
 * when none is. A stream that finishes or closes (destroyed, errored) while waiting
 * stops being waited for (its later packets are discarded), so a dead
 * consumer never wedges the session.
 * @module
 */
import type { Writable } from 'node:stream';

/** What the gate pauses and resumes (the attach connection). */
export interface OutputSource {
  pause(): void;
  resume(): void;
}

/** Delivers output packets and gates the source on the consumers. */
export interface OutputGate {
  /** Writes `payload` (a buffer of its own) to `w` (discarded without a usable `w`); pauses the source if `w` wants a break. */
  deliver(w: Writable | undefined, payload: Buffer): void;
  /** Whether some stream is being waited for (the source is paused). */
  readonly waiting: boolean;
  /** Stops waiting for every stream (removes its listeners) and resumes the source: the session is over. */
  release(): void;
}

/** No 'error': listening would swallow the caller's errors; 'close' follows them (autoDestroy). */
const RELEASE_EVENTS = ['drain', 'finish', 'close'] as const;

/** A gate in front of `source`. */
export function createOutputGate(source: OutputSource): OutputGate {
  const waitingFor = new Map<Writable, () => void>();
  let released = false;
  const stopWaiting = (w: Writable): void => {
    const onReady = waitingFor.get(w);
    if (!onReady) return;
    waitingFor.delete(w);
    for (const ev of RELEASE_EVENTS) w.off(ev, onReady);
    if (waitingFor.size === 0 && !released) source.resume();
  };
  const wait = (w: Writable): void => {
    if (waitingFor.has(w)) return;
    const onReady = (): void => stopWaiting(w);
    waitingFor.set(w, onReady);
    for (const ev of RELEASE_EVENTS) w.on(ev, onReady);
    if (waitingFor.size === 1) source.pause();
  };
  return {
    deliver: (w, payload) => {
      if (!w || w.destroyed || w.writableEnded) return;
      if (!w.write(payload) && !released && !w.destroyed) wait(w);
    },
    get waiting() {
      return waitingFor.size > 0;
    },
    release: () => {
      released = true;
      for (const w of [...waitingFor.keys()]) stopWaiting(w);
    },
  };
}
