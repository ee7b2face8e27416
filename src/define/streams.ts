/**
 * Attach streams: which are given decides what is attached.
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/** Streams of an attach or exec session. */
export interface AttachStreams {
  /** Receives the container's stdout (and everything, with a terminal). */
  stdout?: Writable;
  /** Receives the container's stderr. */
  stderr?: Writable;
  /** Copied to the container's stdin. */
  stdin?: Readable;
}

/** A terminal size, in character cells. */
export interface TerminalSize {
  width: number;
  height: number;
}

/** How an attach session ended. */
export type AttachEnd = 'ended' | 'detached';

/** Default detach keys, as podman's: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';
