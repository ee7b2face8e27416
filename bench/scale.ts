/**
 * Scale benchmark: a runtime with many containers on the level store and the
 * fake OCI runtime (no root, no processes), measuring what grows with the
 * number of containers:
 *
 *   - `runtime.containers()` (every record, running ones synced), against
 *     the floor of reading every record from the store (`store.list`);
 *   - `runtime.lookupContainer(name)`, against a lookup by full id;
 *   - the process's RSS once every container exists.
 *
 *   npm run bench:scale -- [--containers N] [--running N] [--rounds N]
 *
 * Defaults: 10,000 containers, 1,000 of them running, medians of 20 rounds
 * (lookups: the mean of 1,000 lookups per round). A child process creates
 * the containers; this process then opens the store as an application
 * would, so its RSS is that of a process holding 10,000 containers, not the
 * garbage of creating them. Everything lives in one temp dir, removed at
 * the end. No root needed.
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FakeOciRuntime, LevelStateStore, Runtime, type Container } from '../src/index.js';
import { median, must } from './measure.js';

const USAGE = 'usage: npm run bench:scale -- [--containers N] [--running N] [--rounds N]';

interface Options {
  containers: number;
  running: number;
  rounds: number;
}

function parseOptions(argv: string[]): Options | string {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        containers: { type: 'string', default: '10000' },
        running: { type: 'string', default: '1000' },
        rounds: { type: 'string', default: '20' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return USAGE;
    const o = { containers: Number(values.containers), running: Number(values.running), rounds: Number(values.rounds) };
    for (const [k, v] of Object.entries(o)) if (!Number.isInteger(v) || v < (k === 'running' ? 0 : 1)) return `--${k} must be a positive integer\n${USAGE}`;
    if (o.running > o.containers) return `--running must not exceed --containers\n${USAGE}`;
    return o;
  } catch (e) {
    return `${e instanceof Error ? e.message : String(e)}\n${USAGE}`;
  }
}

const progress = (msg: string): void => {
  process.stderr.write(`bench:scale: ${(performance.now() / 1000).toFixed(1)}s ${msg}\n`);
};

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const MiB = 1024 * 1024;
const fmt = (ms: number): string => (ms < 1 ? `${ms.toFixed(4)} ms` : `${ms.toFixed(1)} ms`);

/** Creates the containers (in a child process, so its garbage does not count in the measuring process's RSS). */
async function create(dir: string, opts: Options): Promise<void> {
  const root = join(dir, 'root');
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  const runtime = must(await Runtime.open({ root, runRoot: join(dir, 'run'), store: 'level', ociRuntime: new FakeOciRuntime() }), 'Runtime.open');
  try {
    const t0 = performance.now();
    for (let i = 0; i < opts.containers; i++) {
      const ctr: Container = must(await runtime.newContainer({ name: `ctr-${i}`, rootfs, command: ['/bin/sleep', '1000'], labels: { n: String(i % 10) } }), 'newContainer');
      if (i < opts.running) must(await ctr.start(), 'start');
      if ((i + 1) % 2000 === 0) progress(`${i + 1} created`);
    }
    console.log(JSON.stringify({ createMs: performance.now() - t0 }));
  } finally {
    must(await runtime.close(), 'close');
  }
}

async function measure(dir: string, opts: Options, createMs: number): Promise<void> {
  const root = join(dir, 'root');
  const rssBefore = process.memoryUsage().rss;
  const store = new LevelStateStore(join(root, 'state'));
  const tOpen = performance.now();
  // A new fake runtime: the running records' processes are not known to it, so each
  // listing checks them for an exit (and finds none), as a real runtime would.
  const rt = must(await Runtime.open({ root, runRoot: join(dir, 'run'), store, ociRuntime: new FakeOciRuntime() }), 'Runtime.open');
  try {
    const first = await timeMs(async () => must(await rt.containers(), 'containers'));
    const openMs = performance.now() - tOpen;
    const names = Array.from({ length: 1000 }, (_, i) => `ctr-${(i * 7919) % opts.containers}`);
    const ids = await Promise.all(names.map(async (n) => must(await rt.lookupContainer(n), 'lookup').id));
    const list: number[] = [];
    const byName: number[] = [];
    const byId: number[] = [];
    for (let r = 0; r < opts.rounds + 1; r++) {
      const l = await timeMs(async () => {
        const all = must(await rt.containers(), 'containers');
        if (all.length !== opts.containers) throw new Error(`containers() gave ${all.length}`);
      });
      const n = (await timeMs(async () => {
        for (const name of names) must(await rt.lookupContainer(name), 'lookup');
      })) / names.length;
      const i = (await timeMs(async () => {
        for (const id of ids) must(await rt.lookupContainer(id), 'lookup');
      })) / ids.length;
      if (r === 0) continue; // warm-up
      list.push(l);
      byName.push(n);
      byId.push(i);
    }
    // RSS of a process that opened the store, listed and looked up (before the floor's reads add their garbage).
    const rss = process.memoryUsage().rss;
    const floor: number[] = [];
    for (let r = 0; r < opts.rounds + 1; r++) {
      const f = await timeMs(async () => must(await store.list('container'), 'store.list'));
      if (r > 0) floor.push(f);
    }
    const rows: [string, number, string, number][] = [
      ['runtime.containers()', median(list), 'store.list (floor)', median(floor)],
      ['lookupContainer(name)', median(byName), 'lookupContainer(id)', median(byId)],
    ];
    console.log(`${opts.containers} containers (${opts.running} running), level store, fake runtime; medians of ${opts.rounds} rounds\n`);
    console.log('| operation | libpod-ts | peer | peer time | ratio |');
    console.log('| --- | ---: | --- | ---: | ---: |');
    for (const [op, t, peer, pt] of rows) console.log(`| ${op} | ${fmt(t)} | ${peer} | ${fmt(pt)} | ${(t / pt).toFixed(2)}x |`);
    console.log(`\nRuntime.open + first containers() (loads the index): ${fmt(openMs)} (the listing: ${fmt(first)})`);
    console.log(`create (newContainer${opts.running ? ' + start' : ''}): ${(createMs / opts.containers).toFixed(2)} ms each`);
    console.log(`RSS: ${(rss / MiB).toFixed(0)} MiB (${(rssBefore / MiB).toFixed(0)} MiB before opening the runtime)`);
  } finally {
    must(await rt.close(), 'close');
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const childDir = argv[0] === '--create-in' ? argv[1] : undefined;
  const opts = parseOptions(childDir === undefined ? argv : argv.slice(2));
  if (typeof opts === 'string') {
    console.error(opts);
    return opts === USAGE ? 0 : 2;
  }
  if (childDir !== undefined) {
    await create(childDir, opts);
    return 0;
  }
  const dir = await mkdtemp(join(tmpdir(), 'lpts-scale-'));
  try {
    progress(`creating ${opts.containers} containers (${opts.running} running) in a child process`);
    const args = [fileURLToPath(import.meta.url), '--create-in', dir, ...argv];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (e, stdout, stderr) => {
        process.stderr.write(stderr);
        if (e) reject(e);
        else resolve(stdout);
      }),
    );
    const { createMs } = JSON.parse(out) as { createMs: number };
    progress('measuring');
    await measure(dir, opts, createMs);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench:scale: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
