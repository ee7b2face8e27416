/**
 * Archive benchmark: libpod-ts's `extractTree` / `packTree` (GNU tar behind
 * a JS header scanner) against GNU tar alone doing the same work with the
 * same options, on an image-layer-sized tree (default 6,800 files, about
 * 128 MB: many small files, some large ones), in the same run.
 *
 *   npm run bench:archive -- [--rounds N] [--tmpfs]
 *
 * Prints medians over N interleaved rounds (default 5; each round runs both
 * in a random order) and the ratios. `--tmpfs` (root) puts the trees on a
 * private tmpfs, so the disk of a shared VM does not dominate and what is
 * left is the tools' own cost. Everything lives below one temp dir, removed
 * at the end.
 * @module
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { extractTree, packTree } from '../src/archive/index.js';
import { median, mountTmpfs } from './measure.js';

const exec = promisify(execFile);
const TAR_X = ['--extract', '--numeric-owner', '--preserve-permissions', '--xattrs', '--xattrs-include=*', '--same-owner'];

/** A tree shaped like an image layer: `files` files in nested directories, `bytes` in total. */
async function makeTree(dir: string, files: number, bytes: number): Promise<void> {
  const big = Math.floor(files / 340); // a few large files (libraries, binaries) hold most of the bytes
  const small = files - big;
  const smallSize = Math.floor((bytes * 0.3) / small);
  const bigSize = Math.floor((bytes * 0.7) / Math.max(1, big));
  const made = new Set<string>();
  for (let i = 0; i < files; i += 1) {
    const d = join(dir, `usr${i % 4}`, `lib${i % 50}`, `pkg${i % 7}`);
    if (!made.has(d)) await mkdir(d, { recursive: true });
    made.add(d);
    await writeFile(join(d, `file${i}`), randomBytes(i < big ? bigSize : Math.max(1, Math.floor(smallSize * (0.2 + (i % 9) / 5)))));
  }
}

/** Reads a child's stdout to the end and waits for it to exit 0. */
async function drain(child: ChildProcess): Promise<void> {
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await pipeline(child.stdout as NodeJS.ReadableStream, createWriteStream('/dev/null'));
  if ((await exited) !== 0) throw new Error('tar failed');
}

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, tmpfs: { type: 'boolean', default: false }, files: { type: 'string', default: '6800' }, mb: { type: 'string', default: '128' } } });
  const rounds = Number(values.rounds);
  const base = await mkdtemp(join(tmpdir(), 'libpod-bench-archive-'));
  const work = values.tmpfs ? await mountTmpfs(join(base, 'fs')) : base;
  try {
    const src = join(work, 'src');
    await makeTree(src, Number(values.files), Number(values.mb) * 1024 * 1024);
    const tarFile = join(work, 'layer.tar');
    await pipeline(packTree(src), createWriteStream(tarFile));
    const results: Record<string, number[]> = { 'extract: tar -x': [], 'extract: extractTree': [], 'pack: tar -c': [], 'pack: packTree': [] };
    const steps: [string, () => Promise<unknown>][] = [
      ['extract: tar -x', async () => {
        const dest = join(work, 'x-tar');
        await mkdir(dest);
        await exec('tar', [...TAR_X, '-f', tarFile, '-C', dest]);
      }],
      ['extract: extractTree', async () => {
        const r = await extractTree(createReadStream(tarFile), join(work, 'x-ours'), { symlinks: 'any' });
        if (r.isErr()) throw r.error;
      }],
      // to a pipe, as packTree does: with `-f /dev/null` GNU tar skips reading the files
      ['pack: tar -c', () => drain(spawn('tar', ['--create', '--format=pax', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--sort=name', '-f', '-', '-C', src, '.'], { stdio: ['ignore', 'pipe', 'inherit'] }))],
      ['pack: packTree', () => pipeline(packTree(src), createWriteStream('/dev/null'))],
    ];
    for (let r = 0; r <= rounds; r += 1) {
      for (const [name, fn] of [...steps].sort(() => Math.random() - 0.5)) {
        await rm(join(work, 'x-tar'), { recursive: true, force: true });
        await rm(join(work, 'x-ours'), { recursive: true, force: true });
        await exec('sync');
        const ms = await time(fn);
        if (r > 0) results[name]?.push(ms); // round 0 warms the page cache
      }
    }
    const m = (k: string): number => median(results[k] ?? []);
    console.log(`| operation (${values.files} files, ${values.mb} MB, ${values.tmpfs ? 'tmpfs' : 'disk'}) | GNU tar alone | libpod-ts | libpod-ts / tar |`);
    console.log('| --- | ---: | ---: | ---: |');
    for (const op of ['extract', 'pack']) {
      const peer = m(`${op}: tar -${op === 'extract' ? 'x' : 'c'}`);
      const ours = m(`${op}: ${op === 'extract' ? 'extractTree' : 'packTree'}`);
      console.log(`| ${op} | ${peer.toFixed(0)} ms | ${ours.toFixed(0)} ms | ${(ours / peer).toFixed(2)}x |`);
    }
  } finally {
    if (values.tmpfs) await exec('umount', [work]).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  }
}

await main();
