/**
 * Timing, medians and the markdown report of the benchmark.
 *
 * Every engine is a {@link Subject}; {@link interleave} times them round-robin
 * (iteration 1 of each, then iteration 2 of each, ...), so a slow spell of
 * the machine lands on all of them alike instead of on whichever ran then,
 * in a new (seeded, so repeatable) order each round, so what one engine
 * leaves running in the background (podman's cleanup processes, the kernel
 * tearing down a network namespace) does not always fall on the same
 * neighbour.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Result } from 'neverthrow';
import { runCommand, spawnProcess } from '../src/host/command.js';

/** One engine under measurement. */
export interface Subject {
  /** Column key in the report. */
  readonly key: EngineKey;
  /** One whole container life of `/bin/true`: create, start, wait for the exit, remove. */
  run(i: number): Promise<void>;
  /** Starts the long-running container that {@link Subject.exec} runs in. */
  startExecTarget(): Promise<void>;
  /** `exec` of `/bin/true` in that container, to its exit. */
  exec(): Promise<void>;
  /** Removes whatever the subject made, also after a failure. */
  close(): Promise<void>;
}

/** The engines of the report, in column order. */
export type EngineKey = 'runc' | 'oci' | 'libpod' | 'podman';

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (i: number): number => s[i] ?? Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/**
 * Runs `op` of every subject once untimed (warm-up), then `iterations` rounds
 * of one timed `op` per subject, in a shuffled order each round; returns the
 * milliseconds per subject.
 */
export async function interleave<S extends { readonly key: string }>(
  subjects: readonly S[],
  iterations: number,
  op: (s: S, i: number) => Promise<void>,
): Promise<Map<S['key'], number[]>> {
  const times = new Map<S['key'], number[]>(subjects.map((s) => [s.key, []]));
  for (const s of subjects) await op(s, -1);
  const random = seededRandom(0x11b90d);
  for (let i = 0; i < iterations; i++) {
    for (const s of shuffled(subjects, random)) {
      const t0 = performance.now();
      await op(s, i);
      times.get(s.key)?.push(performance.now() - t0);
    }
  }
  return times;
}

/** A repeatable pseudo-random source in [0, 1) (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Fisher-Yates shuffled copy of `xs`. */
function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The value of an Ok, or a thrown Error naming `what` (the benchmark stops and cleans up). */
export function must<T, E extends Error>(r: Result<T, E>, what: string): T {
  if (r.isErr()) throw new Error(`${what}: ${r.error.message}`, { cause: r.error });
  return r.value;
}

/** Runs a command to completion; throws on a non-zero status. */
export async function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const out = must(await runCommand(file, args, env === undefined ? {} : { env }), `${file} ${args.join(' ')}`);
  if (out.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${(out.stderr || out.stdout).trim() || `exit status ${out.code}`}`);
  return out.stdout;
}

/**
 * Runs a command with stdio on /dev/null, for commands that leave a process
 * behind holding their stdio (`runc run -d`); throws on a non-zero status.
 */
export function runDetached(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(file, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')}: exit status ${code ?? signal}`)),
    );
  });
}

/** Mounts a private tmpfs (mode 0700) on `dir`, made first; the caller's cleanup unmounts it. */
export async function mountTmpfs(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await run('mount', ['-t', 'tmpfs', '-o', 'mode=0700,size=1g', 'tmpfs', dir]);
  return dir;
}

/** Medians (ms) of one operation per engine; a missing key was not measured. */
export interface ReportRow {
  operation: string;
  medians: Partial<Record<EngineKey, number>>;
}

/** Milliseconds with one decimal ('n/a' when not measured). */
export const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
/** `a / b` as `1.23x` ('n/a' when either is not measured). */
export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;

/** The report as a markdown table. */
export function formatTable(rows: readonly ReportRow[], iterations: number): string {
  const lines = [
    `median of ${iterations} interleaved iterations (ms)`,
    '',
    '| operation | runc | OCI layer | libpod-ts | podman | libpod-ts / runc | OCI layer / runc | podman / libpod-ts |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { operation, medians: m } of rows) {
    lines.push(
      `| ${operation} | ${ms(m.runc)} | ${ms(m.oci)} | ${ms(m.libpod)} | ${ms(m.podman)} | ${ratio(m.libpod, m.runc)} | ${ratio(m.oci, m.runc)} | ${ratio(m.podman, m.libpod)} |`,
    );
  }
  return lines.join('\n');
}
