/**
 * Images benchmark, libpod-ts against podman in one run, on the Debian
 * minbase image (`bench/debian-image.ts`: debootstrapped and packed into a
 * docker-archive once per machine, about 128 MB and 6,800 files):
 *
 *   load    - `runtime.loadImages(archive)` into an empty store | `podman load -i`
 *   save    - `runtime.saveImages([img], file)` (docker-archive) | `podman save -o`
 *   commit  - `ctr.commit()` of a container with one changed file | `podman commit`
 *   run     - newContainer({ image }) + start + wait + remove | the same from a rootfs directory
 *   RSS     - peak resident memory of this process during a load
 *   pull    - `runtime.pullImage` from a loopback registry (gzip, zstd, re-pulls) | `podman pull` (bench/pull.ts),
 *             in a process of its own, so its RSS is the pull's and not what the sections before left
 *   push    - `runtime.pushImage` of the loaded image to a fresh loopback registry (gzip on the fly), re-push | `podman push` (bench/push.ts)
 *
 *   npm run bench:images -- [--iterations N] [--only pull|push]
 *
 * Both engines use the overlay driver on disk below one temp dir (podman:
 * private --root / --runroot, runc, cgroupfs). Rounds alternate which engine
 * goes first; medians are reported with their ratios and the targets
 * (load <= 0.7x, save <= 1.0x, commit <= 1.0x podman; image run within
 * 1.2x of rootfs run). Needs root.
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Runtime } from '../src/runtime.js';
import { runCommand } from '../src/host/command.js';
import { debianArchive } from './debian-image.js';
import { timed, type ImageRow } from './image-bench.js';
import { median, must } from './measure.js';
import { pullBench, pullReportLine, type PullBenchResult } from './pull.js';
import { pushBench } from './push.js';

const USAGE = 'usage: npm run bench:images -- [--iterations N] [--only pull|push] [--json (with --only pull)]';
const progress = (m: string): void => void process.stderr.write(`bench:images: ${m}\n`);
const IMAGE = 'localhost/debian:bench';

const CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

function podmanIn(dir: string): (args: string[]) => Promise<string> {
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const g = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'overlay', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
  return async (args) => {
    const r = await runCommand('podman', [...g, ...args], { env, timeoutMs: 600_000, notFoundCode: 'Internal' });
    if (r.isErr()) throw r.error;
    if (r.value.code !== 0) throw new Error(`podman ${args.join(' ')}: ${r.value.stderr.trim()}`);
    return r.value.stdout;
  };
}

function report(rows: readonly ImageRow[], peakRssMiB: number, n: number, pull?: PullBenchResult): string {
  const lines = [
    `| operation | libpod-ts (ms) | peer (ms) | ratio | target |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...rows.map((r) => {
      const [a, b] = [median(r.ours), median(r.theirs)];
      const ratio = a / b;
      return `| ${r.what} | ${a.toFixed(0)} | ${b.toFixed(0)} (${r.peer}) | ${ratio.toFixed(2)}x | <= ${r.target}x ${ratio <= r.target ? 'ok' : 'MISSED'} |`;
    }),
    ...(pull?.rows.map(pullReportLine) ?? []),
    '',
    ...(peakRssMiB > 0 ? [`Peak RSS of this process during a load: ${peakRssMiB.toFixed(0)} MiB (target < 200 MiB).`] : []),
    ...(pull ? [`Peak RSS during the pulls (their own process): ${(pull.peakRss / 2 ** 20).toFixed(0)} MiB (target < 200 MiB).`] : []),
    `Medians of ${n} interleaved rounds.`,
  ];
  return lines.join('\n');
}

/** The pull rows from `--only pull --json` in a child process: its peak RSS is the pulls' own. */
function pullInOwnProcess(n: number): Promise<PullBenchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1] ?? '', '--only', 'pull', '--json', '--iterations', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the pull bench exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as PullBenchResult);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

async function main(): Promise<number> {
  let n = 3;
  let only: string | undefined;
  let json = false;
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { iterations: { type: 'string', default: '3' }, only: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) return void console.log(USAGE), 0;
    n = Number(values.iterations);
    if (!Number.isInteger(n) || n < 1) throw new Error('--iterations must be a positive integer');
    only = values.only;
    json = values.json === true;
    if (only !== undefined && only !== 'pull' && only !== 'push') throw new Error('--only takes: pull, push');
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('bench:images: needs root');
    return 1;
  }
  const archive = await debianArchive(undefined, progress);
  const work = await mkdtemp('/var/tmp/lpts-bench-images-');
  const pdir = join(work, 'podman');
  for (const d of ['root', 'run', 'tmp']) await mkdir(join(pdir, d), { recursive: true });
  await writeFile(join(pdir, 'containers.conf'), CONF);
  const podman = podmanIn(pdir);
  const open = async (name: string): Promise<Runtime> => must(await Runtime.open({ root: join(work, name, 'root'), runRoot: join(work, name, 'run'), storage: { path: join(work, name, 'storage'), driver: 'overlay' } }), 'Runtime.open');
  const rows: ImageRow[] = [];
  let peak = 0;
  const pullEnv = { archive, work, iterations: n, podman, open, progress };
  try {
    if (only === 'pull' && json) return void console.log(JSON.stringify(await pullBench(pullEnv))), 0;
    if (only === 'pull') return void console.log(report([], 0, n, await pullBench(pullEnv))), 0;
    if (only === 'push') return void console.log(report(await pushBench(pullEnv), 0, n)), 0;
    // load: a fresh store each round for us; podman removes its image (and layers) between rounds
    const load: ImageRow = { what: 'load docker-archive (128 MB)', ours: [], theirs: [], target: 0.7, peer: 'podman load' };
    for (let i = 0; i < n; i++) {
      progress(`load round ${i + 1}/${n}`);
      const ours = async (): Promise<void> => {
        const rt = await open(`load-${i}`);
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
        try {
          load.ours.push(await timed(async () => void must(await rt.loadImages(archive), 'loadImages')));
        } finally {
          clearInterval(sampler);
          await rt.close();
          await rm(join(work, `load-${i}`), { recursive: true, force: true });
        }
      };
      const theirs = async (): Promise<void> => {
        load.theirs.push(await timed(async () => void (await podman(['load', '-q', '-i', archive]))));
        await podman(['rmi', '-a', '-f']);
      };
      if (i % 2 === 0) await ours().then(theirs);
      else await theirs().then(ours);
    }
    rows.push(load);

    // one loaded image each for save, commit and run
    const rt = await open('main');
    must(await rt.loadImages(archive), 'loadImages');
    await podman(['load', '-q', '-i', archive]);
    const save: ImageRow = { what: 'save docker-archive', ours: [], theirs: [], target: 1.0, peer: 'podman save' };
    for (let i = 0; i < n; i++) {
      progress(`save round ${i + 1}/${n}`);
      const out = join(work, 'saved.tar');
      const ours = async (): Promise<void> => {
        save.ours.push(await timed(async () => void must(await rt.saveImages([IMAGE], out, { format: 'docker-archive' }), 'saveImages')));
        await rm(out, { force: true });
      };
      const theirs = async (): Promise<void> => {
        save.theirs.push(await timed(async () => void (await podman(['save', '-q', '-o', out, IMAGE]))));
        await rm(out, { force: true });
      };
      if (i % 2 === 0) await ours().then(theirs);
      else await theirs().then(ours);
    }
    rows.push(save);

    const commit: ImageRow = { what: 'commit of one changed file', ours: [], theirs: [], target: 1.0, peer: 'podman commit' };
    for (let i = 0; i < n; i++) {
      progress(`commit round ${i + 1}/${n}`);
      const ours = async (): Promise<void> => {
        const ctr = must(await rt.newContainer({ image: IMAGE, command: ['/bin/true'] }), 'newContainer');
        const root = must(await ctr.mount(), 'mount');
        await writeFile(join(root, 'etc', 'bench-change'), `round ${i}\n`);
        const img = await timed(async () => void must(await ctr.commit(`localhost/bench-commit:${i}`), 'commit'));
        commit.ours.push(img);
        must(await rt.removeContainer(ctr, { force: true }), 'removeContainer');
        must(await rt.removeImage(`localhost/bench-commit:${i}`), 'removeImage');
      };
      const theirs = async (): Promise<void> => {
        const name = `bench-commit-${i}`;
        await podman(['create', '--name', name, IMAGE, '/bin/true']);
        const root = (await podman(['mount', name])).trim();
        await writeFile(join(root, 'etc', 'bench-change'), `round ${i}\n`);
        commit.theirs.push(await timed(async () => void (await podman(['commit', '-q', name, `localhost/bench-commit:${i}`]))));
        await podman(['rm', '-f', name]);
        await podman(['rmi', `localhost/bench-commit:${i}`]);
      };
      if (i % 2 === 0) await ours().then(theirs);
      else await theirs().then(ours);
    }
    rows.push(commit);

    // run from the image vs from a directory with the same tree
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    const layer = await runCommand('tar', ['-xf', archive, '-C', work, '--wildcards', '*.tar'], { timeoutMs: 600_000 });
    if (layer.isErr() || layer.value.code !== 0) throw new Error('unpacking the archive failed');
    const ls = await runCommand('sh', ['-c', `tar -xf ${work}/*[0-9a-f].tar -C ${rootfs} --numeric-owner`], { timeoutMs: 600_000 });
    if (ls.isErr() || ls.value.code !== 0) throw new Error('unpacking the layer failed');
    const run: ImageRow = { what: 'create + start + wait + remove of /bin/true', ours: [], theirs: [], target: 1.2, peer: 'libpod-ts from a rootfs dir' };
    const once = async (opts: { image: string } | { rootfs: string }): Promise<number> =>
      timed(async () => {
        const ctr = must(await rt.newContainer({ ...opts, command: ['/bin/true'] }), 'newContainer');
        must(await ctr.start(), 'start');
        must(await ctr.wait(), 'wait');
        must(await rt.removeContainer(ctr, { force: true }), 'removeContainer');
      });
    await once({ image: IMAGE });
    await once({ rootfs });
    for (let i = 0; i < n * 3; i++) {
      progress(`run round ${i + 1}/${n * 3}`);
      if (i % 2 === 0) {
        run.ours.push(await once({ image: IMAGE }));
        run.theirs.push(await once({ rootfs }));
      } else {
        run.theirs.push(await once({ rootfs }));
        run.ours.push(await once({ image: IMAGE }));
      }
    }
    rows.push(run);
    await rt.close();
    rows.push(...(await pushBench(pullEnv)));
    const pulled = await pullInOwnProcess(n);
    console.log(report(rows, peak / 2 ** 20, n, pulled));
    return 0;
  } finally {
    await podman(['rm', '-a', '-f']).catch(() => undefined);
    await podman(['rmi', '-a', '-f']).catch(() => undefined);
    await runCommand('sh', ['-c', `grep -o ' ${work}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench:images: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
