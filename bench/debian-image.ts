/**
 * The bench's Debian image, made once per machine and cached:
 * `debootstrap --variant=minbase bookworm` from the host's apt mirror, apt
 * caches dropped (about 128 MB, 6,800 files), packed as one uncompressed
 * layer into a docker-archive (`debian:bench`) beside it. Later runs find
 * the archive and do nothing.
 *
 *   <cache>/debian-minbase.docker.tar   default cache /var/cache/libpod-ts-bench
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../src/host/command.js';

/** Default cache directory. */
export const BENCH_CACHE = process.env.LIBPOD_TS_BENCH_CACHE ?? '/var/cache/libpod-ts-bench';

async function sh(cmd: string, args: string[], timeoutMs = 900_000): Promise<string> {
  const r = await runCommand(cmd, args, { timeoutMs, notFoundCode: 'Internal' });
  if (r.isErr()) throw r.error;
  if (r.value.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.value.stderr.trim()}`);
  return r.value.stdout;
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

function aptMirror(text: string): string {
  return /URIs:\s*(\S+)/.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm/m.exec(text)?.[1] ?? 'http://deb.debian.org/debian';
}

/** The docker-archive of the Debian minbase image (made on first use; needs root and the apt mirror). */
export async function debianArchive(cache = BENCH_CACHE, log: (m: string) => void = () => undefined): Promise<string> {
  const archive = join(cache, 'debian-minbase.docker.tar');
  if (existsSync(archive)) return archive;
  await mkdir(cache, { recursive: true });
  const work = join(cache, 'work');
  await rm(work, { recursive: true, force: true });
  const rootfs = join(work, 'rootfs');
  await mkdir(work, { recursive: true });
  let sources = '';
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) if (existsSync(f)) sources += await readFile(f, 'utf8');
  log('debootstrap --variant=minbase bookworm (once per machine, about a minute)');
  await sh('debootstrap', ['--variant=minbase', 'bookworm', rootfs, aptMirror(sources)]);
  await sh('sh', ['-c', `rm -rf ${rootfs}/var/cache/apt/archives/*.deb ${rootfs}/var/lib/apt/lists/* ${rootfs}/var/cache/apt/*.bin`]);
  const layerTmp = join(work, 'layer.tar');
  await sh('tar', ['--numeric-owner', '--xattrs', '--sort=name', '-C', rootfs, '-cf', layerTmp, '.']);
  const diffId = await fileDigest(layerTmp);
  const size = (await stat(layerTmp)).size;
  const pack = join(work, 'archive');
  await mkdir(pack);
  await rename(layerTmp, join(pack, `${diffId.slice(7)}.tar`));
  const created = '2025-05-20T00:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: 'debootstrap --variant=minbase bookworm' }],
    }),
  );
  const id = createHash('sha256').update(config).digest('hex');
  await writeFile(join(pack, `${id}.json`), config);
  await writeFile(join(pack, 'manifest.json'), JSON.stringify([{ Config: `${id}.json`, RepoTags: ['localhost/debian:bench'], Layers: [`${diffId.slice(7)}.tar`] }]));
  await sh('tar', ['--sort=name', '-C', pack, '-cf', `${archive}.tmp`, 'manifest.json', `${id}.json`, `${diffId.slice(7)}.tar`]);
  await rename(`${archive}.tmp`, archive);
  await rm(work, { recursive: true, force: true });
  log(`Debian image: ${(size / 1e6).toFixed(0)} MB layer, id ${id.slice(0, 12)}`);
  return archive;
}
