/**
 * Lifecycle benchmark: libpod-ts against bare runc (the floor) and podman
 * (when installed), each on its own busybox rootfs and private temp roots.
 *
 *   npm run bench -- [--iterations N] [--install-podman]
 *   npx tsx bench/lifecycle.ts [--iterations N] [--install-podman]
 *
 * Measures, as medians over N runs (default 20) after one warm-up:
 *   run  - `runc run` | newContainer + start + wait + removeContainer | `podman run --rm --rootfs`
 *   exec - `runc exec` | `ctr.exec` | `podman exec`, of /bin/true in a running container
 * and prints a markdown table. Needs root. Everything it creates lives below
 * one temp dir, removed at the end (containers deleted, mounts undone).
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTestRoots } from '../test/e2e/support/leaks.js';
import { benchLibpod } from './libpod.js';
import { formatTable, median } from './measure.js';
import { benchPodman, installPodman, podmanAvailable } from './podman.js';
import { buildBusyboxRootfs } from '../test/fixtures/busybox-rootfs.js';
import { benchRunc } from './runc-baseline.js';

const USAGE = 'usage: tsx bench/lifecycle.ts [--iterations N] [--install-podman]';

function parseOptions(argv: string[]): { iterations: number; installPodman: boolean } | string {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { iterations: { type: 'string', default: '20' }, 'install-podman': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return USAGE;
    const iterations = Number(values.iterations);
    if (!Number.isInteger(iterations) || iterations < 1) return `--iterations must be a positive integer\n${USAGE}`;
    return { iterations, installPodman: values['install-podman'] === true };
  } catch (e) {
    return `${e instanceof Error ? e.message : String(e)}\n${USAGE}`;
  }
}

const progress = (msg: string): void => {
  process.stderr.write(`bench: ${msg}\n`);
};

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (typeof opts === 'string') {
    console.error(opts);
    return opts === USAGE ? 0 : 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (runc and conmon create real containers)');
    return 1;
  }
  if (opts.installPodman && !(await podmanAvailable())) {
    progress('installing podman (apt-get)');
    await installPodman();
  }
  const withPodman = await podmanAvailable();
  const n = opts.iterations;
  const roots = await makeTestRoots('lpts-bench-');
  try {
    const rootfs = (engine: string): Promise<string> => buildBusyboxRootfs(join(roots.dir, `rootfs-${engine}`));
    progress(`runc baseline (${n} iterations)`);
    const runc = await benchRunc(join(roots.dir, 'runc-bundles'), join(roots.dir, 'runc'), await rootfs('runc'), n);
    progress('libpod-ts');
    const libpod = await benchLibpod(roots.root, roots.runRoot, await rootfs('libpod'), n);
    let podman: { run: number[]; exec: number[] } | undefined;
    if (withPodman) {
      progress('podman');
      podman = await benchPodman(join(roots.dir, 'podman'), await rootfs('podman'), n);
    } else {
      progress('podman: not installed, skipped (--install-podman installs it)');
    }
    const med = (xs: number[] | undefined): number | undefined => (xs === undefined ? undefined : median(xs));
    console.log(
      formatTable(
        [
          { operation: 'run /bin/true (create, start, wait, remove)', runc: med(runc.run), libpod: med(libpod.run), podman: med(podman?.run) },
          { operation: 'exec /bin/true', runc: med(runc.exec), libpod: med(libpod.exec), podman: med(podman?.exec) },
        ],
        n,
      ),
    );
    return 0;
  } finally {
    // A cleanup failure must not hide the benchmark's own error.
    await roots.cleanup().catch((e: unknown) => {
      console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    });
  }
}

main().then(
  (code) => {
    process.exitCode = Math.max(code, Number(process.exitCode ?? 0));
  },
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
