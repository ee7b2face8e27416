/**
 * What the sections of `bench/images` share: the run's environment, the
 * row every section reports, and the timer.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../src/runtime.js';

/** A row of the images report: medians of `ours` and `theirs`, compared with `target`. */
export interface ImageRow {
  what: string;
  ours: number[];
  theirs: number[];
  /** Upper bound of ours / theirs. */
  target: number;
  peer: string;
  /** An absolute bound in ms instead of a ratio (re-pulls). */
  absoluteMs?: number;
}

/** What a section needs from the images bench. */
export interface ImageBenchEnv {
  /** The Debian docker-archive. */
  archive: string;
  /** A temp dir of the run (removed by the caller). */
  work: string;
  iterations: number;
  /** podman with the run's private root, runroot and containers.conf. */
  podman: (args: string[]) => Promise<string>;
  /** Opens a Runtime whose store lives below `work/<name>`. */
  open: (name: string) => Promise<Runtime>;
  progress: (m: string) => void;
}

/** Milliseconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
