/**
 * Timing, medians and the markdown report of the benchmark.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Result } from 'neverthrow';
import { runCommand, spawnProcess } from '../src/host/command.js';

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (i: number): number => s[i] ?? Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/**
 * Runs `fn` once untimed (warm-up), then `iterations` times, and returns the
 * milliseconds of each timed run.
 */
export async function sample(iterations: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  await fn(-1);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return times;
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

/** Medians (ms) of one operation per engine; `undefined` when that engine was not measured. */
export interface ReportRow {
  operation: string;
  runc: number | undefined;
  libpod: number | undefined;
  podman: number | undefined;
}

const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;

/** The report as a markdown table. */
export function formatTable(rows: readonly ReportRow[], iterations: number): string {
  const lines = [
    `median of ${iterations} iterations (ms)`,
    '',
    '| operation | runc | libpod-ts | podman | libpod-ts / runc | podman / libpod-ts |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.operation} | ${ms(r.runc)} | ${ms(r.libpod)} | ${ms(r.podman)} | ${ratio(r.libpod, r.runc)} | ${ratio(r.podman, r.libpod)} |`);
  }
  return lines.join('\n');
}
