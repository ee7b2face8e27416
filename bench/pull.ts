/**
 * The pull rows of `bench/images`: the Debian minbase image pushed by skopeo
 * to a loopback `docker-registry` (test/support/registry.ts) twice, gzip
 * (skopeo's default, about 49 MB) and zstd (`--dest-compress-format zstd`),
 * then pulled into a fresh store by libpod-ts and by `podman pull` in
 * interleaved rounds:
 *
 *   pull gzip       <= 0.6x  podman pull (fresh store each round)
 *   pull zstd       <= 0.75x podman pull
 *   re-pull         < 50 ms  (present image: policy missing, always, newer)
 *   RSS             < 200 MiB (this process, sampled every 10 ms while pulling)
 * @module
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.js';
import { timed, type ImageBenchEnv, type ImageRow } from './image-bench.js';
import { median, must, run } from './measure.js';

/** The rows, and the peak RSS (bytes) of this process during its pulls. */
export interface PullBenchResult {
  rows: ImageRow[];
  peakRss: number;
}

/**
 * Pushes the archive to `gz` as `bench/debian:gzip` and to `zst` as
 * `bench/debian:zstd`. Two registries: skopeo's blob info cache would
 * otherwise substitute the gzip blob already in the registry for the zstd one.
 */
async function pushImages(archive: string, gz: string, zst: string): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${gz}/bench/debian:gzip`]);
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', `docker-archive:${archive}`, `docker://${zst}/bench/debian:zstd`]);
  const raw = JSON.parse(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${zst}/bench/debian:zstd`])) as { layers: { mediaType: string }[] };
  if (!raw.layers.every((l) => l.mediaType.endsWith('zstd'))) throw new Error(`the zstd variant has layers ${raw.layers.map((l) => l.mediaType).join(', ')}`);
}

/** Runs the pull rows (see the module comment). */
export async function pullBench(env: ImageBenchEnv): Promise<PullBenchResult> {
  const reg = await startRegistry();
  const regZstd = await startRegistry().catch(async (e: unknown) => {
    await reg.stop();
    throw e;
  });
  let peak = 0;
  const sample = (): void => void (peak = Math.max(peak, process.memoryUsage().rss));
  try {
    env.progress(`pushing the Debian image to ${reg.host} (gzip and zstd)`);
    await pushImages(env.archive, reg.host, regZstd.host);
    const rows: ImageRow[] = [];
    for (const tag of ['gzip', 'zstd'] as const) {
      const ref = tag === 'gzip' ? `${reg.host}/bench/debian:gzip` : `${regZstd.host}/bench/debian:zstd`;
      const row: ImageRow = { what: `pull Debian (${tag}) into a fresh store`, ours: [], theirs: [], target: tag === 'gzip' ? 0.6 : 0.75, peer: 'podman pull' };
      for (let i = 0; i < env.iterations; i++) {
        env.progress(`pull ${tag} round ${i + 1}/${env.iterations}`);
        const ours = async (): Promise<void> => {
          const name = `pull-${tag}-${i}`;
          const rt = await env.open(name);
          const sampler = setInterval(sample, 10);
          try {
            row.ours.push(await timed(async () => must(await rt.pullImage(ref, { tlsVerify: false }), 'pullImage')));
          } finally {
            clearInterval(sampler);
            await rt.close();
            await rm(join(env.work, name), { recursive: true, force: true });
          }
        };
        const theirs = async (): Promise<void> => {
          row.theirs.push(await timed(() => env.podman(['pull', '-q', '--tls-verify=false', ref])));
          await env.podman(['rmi', '-a', '-f']);
        };
        if (i % 2 === 0) await ours().then(theirs);
        else await theirs().then(ours);
      }
      rows.push(row);
    }
    // re-pulls of a present image, against podman's re-pull (podman 4.3's pull has no --policy: it always asks the registry)
    const ref = `${reg.host}/bench/debian:gzip`;
    const rt = await env.open('repull');
    try {
      must(await rt.pullImage(ref, { tlsVerify: false }), 'pullImage');
      await env.podman(['pull', '-q', '--tls-verify=false', ref]);
      for (const policy of ['missing', 'always', 'newer'] as const) {
        const row: ImageRow = { what: `re-pull of a present image (policy ${policy})`, ours: [], theirs: [], target: Number.POSITIVE_INFINITY, peer: 'podman pull', absoluteMs: 50 };
        for (let i = 0; i < env.iterations * 3; i++) {
          row.ours.push(await timed(async () => must(await rt.pullImage(ref, { tlsVerify: false, policy }), 'pullImage')));
          row.theirs.push(await timed(() => env.podman(['pull', '-q', '--tls-verify=false', ref])));
        }
        rows.push(row);
      }
    } finally {
      await rt.close();
      await env.podman(['rmi', '-a', '-f']);
    }
    return { rows, peakRss: peak };
  } finally {
    await reg.stop();
    await regZstd.stop();
  }
}

/** One line of the report per row: medians, ratio and the target. */
export function pullReportLine(r: ImageRow): string {
  const [a, b] = [median(r.ours), median(r.theirs)];
  const ratio = a / b;
  const verdict = r.absoluteMs !== undefined ? `< ${r.absoluteMs} ms ${a < r.absoluteMs ? 'ok' : 'MISSED'}` : `<= ${r.target}x ${ratio <= r.target ? 'ok' : 'MISSED'}`;
  return `| ${r.what} | ${a.toFixed(r.absoluteMs !== undefined ? 1 : 0)} | ${b.toFixed(0)} (${r.peer}) | ${ratio.toFixed(2)}x | ${verdict} |`;
}

