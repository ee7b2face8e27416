/**
 * Lifecycle benchmark: libpod-ts against bare runc (the floor), its own OCI
 * layer without the engine (what libpod's conmon + runc model costs by
 * itself) and podman (when installed), each on its own busybox rootfs and
 * private temp roots. Every engine's volatile root (runc's `--root`, the
 * runRoots, podman's `--runroot`) is on one private tmpfs, as `/run` is on
 * a usual host; persistent roots stay on disk.
 *
 *   npm run bench -- [--iterations N] [--install-podman] [--only lifecycle|network]
 *
 * (`npm run bench` compiles the library and this directory first and runs
 * the JavaScript: what users run, without a TypeScript loader in the way.)
 * Measures, as medians over N interleaved rounds (default 20) after one
 * warm-up each:
 *   run  - `runc run` | OCI create+start+waitExit+delete | newContainer + start + wait + removeContainer | `podman run --rm --rootfs`
 *   exec - `runc exec` | OCI execute | `ctr.exec` | `podman exec`, of /bin/true in a running container
 * and, with one published port on a network of each engine's own (bench/network.ts):
 *   alone  - the run above, alone on its network: netavark creates and deletes the bridge
 *   beside - the same beside a running container on that network: the bridge stays
 *   (floor: OCI layer + netavark | newContainer with networks and ports ... | `podman run --rm -p`)
 * and prints markdown tables. Needs root. Everything it creates lives below
 * one temp dir, removed at the end (containers deleted, mounts undone).
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTestRoots } from '../test/e2e/support/leaks.js';
import { buildBusyboxRootfs } from '../test/fixtures/busybox-rootfs.js';
import { libpodNetSubject, libpodSubject } from './libpod.js';
import { formatTable, interleave, median, mountTmpfs, type EngineKey, type Subject } from './measure.js';
import { ociLayerSubject } from './oci-layer.js';
import { benchNetworks, formatNetTable, measureNetworking, type NetSubject } from './network.js';
import { networkFloorSubject } from './network-floor.js';
import { installPodman, podmanAvailable, podmanNetSubject, podmanSubject } from './podman.js';
import { runcSubject } from './runc-baseline.js';

const USAGE = 'usage: npm run bench -- [--iterations N] [--install-podman] [--only lifecycle|network]';

type Only = 'lifecycle' | 'network' | undefined;

function parseOptions(argv: string[]): { iterations: number; installPodman: boolean; only: Only } | string {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        iterations: { type: 'string', default: '20' },
        'install-podman': { type: 'boolean', default: false },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return USAGE;
    const iterations = Number(values.iterations);
    if (!Number.isInteger(iterations) || iterations < 1) return `--iterations must be a positive integer\n${USAGE}`;
    const only = values.only;
    if (only !== undefined && only !== 'lifecycle' && only !== 'network') return `--only must be lifecycle or network\n${USAGE}`;
    return { iterations, installPodman: values['install-podman'] === true, only };
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
  const subjects: Subject[] = [];
  const netSubjects: NetSubject[] = [];
  try {
    const rootfs = (engine: string): Promise<string> => buildBusyboxRootfs(join(roots.dir, `rootfs-${engine}`));
    const volatile = await mountTmpfs(join(roots.dir, 'volatile'));
    if (opts.only !== 'network') {
      subjects.push(await runcSubject(join(roots.dir, 'runc'), join(volatile, 'runc'), await rootfs('runc')));
      subjects.push(await ociLayerSubject(join(roots.dir, 'oci'), join(volatile, 'oci'), await rootfs('oci')));
      subjects.push(await libpodSubject(roots.root, join(volatile, 'libpod'), await rootfs('libpod')));
      if (withPodman) subjects.push(await podmanSubject(join(roots.dir, 'podman'), join(volatile, 'podman'), await rootfs('podman')));
      else progress('podman: not installed, skipped (--install-podman installs it)');
      progress(`run: ${n} rounds of ${subjects.map((s) => s.key).join(', ')}`);
      const runs = await interleave(subjects, n, (s, i) => s.run(i));
      for (const s of subjects) await s.startExecTarget();
      progress(`exec: ${n} rounds`);
      const execs = await interleave(subjects, n, (s) => s.exec());
      const medians = (times: Map<EngineKey, number[]>): Partial<Record<EngineKey, number>> =>
        Object.fromEntries([...times].map(([k, xs]) => [k, median(xs)]));
      console.log(
        formatTable(
          [
            { operation: 'run /bin/true (create, start, wait, remove)', medians: medians(runs) },
            { operation: 'exec /bin/true', medians: medians(execs) },
          ],
          n,
        ),
      );
    }
    if (opts.only !== 'lifecycle') {
      const nets = await benchNetworks();
      const floor = await networkFloorSubject(join(roots.dir, 'floor'), join(volatile, 'floor'), await rootfs('floor'), nets.floor);
      netSubjects.push(floor);
      netSubjects.push(await libpodNetSubject(join(roots.dir, 'libpod-net'), join(volatile, 'libpod-net'), await rootfs('libpod-net'), nets.libpod));
      if (withPodman) netSubjects.push(await podmanNetSubject(join(roots.dir, 'podman-net'), join(volatile, 'podman-net'), await rootfs('podman-net'), nets.podman));
      const rows = await measureNetworking(netSubjects, n, progress);
      if (opts.only !== 'network') console.log('');
      console.log(formatNetTable(rows, n, floor.steps));
    }
    return 0;
  } finally {
    // A cleanup failure must not hide the benchmark's own error.
    const report = (e: unknown): void => {
      console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    };
    for (const s of subjects) await s.close().catch(report);
    for (const s of netSubjects) await s.close().catch(report);
    await roots.cleanup().catch(report);
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
