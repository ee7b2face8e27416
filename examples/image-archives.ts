/**
 * Images from archives, without a registry: make a one-layer image of a
 * busybox tree as a docker-archive (what `docker save` / `podman save`
 * write), load it, run it, commit a change, save the result as an
 * oci-archive and load that back. Run as root: `npm run example:images`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs } from './busybox-rootfs.js';
import { Runtime, type Container } from '../src/index.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A docker-archive of `rootfs` as one uncompressed layer, tagged `tag`. */
function dockerArchive(dir: string, rootfs: string, tag: string): string {
  const layer = join(dir, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', layer, '.']);
  const diffId = sha256(readFileSync(layer));
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh', '-c', 'echo hello from the image'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] } });
  const id = sha256(config);
  writeFileSync(join(dir, `${id}.json`), config);
  execFileSync('mv', [layer, join(dir, `${diffId}.tar`)]);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${id}.json`, RepoTags: [tag], Layers: [`${diffId}.tar`] }]));
  const archive = join(dir, 'image.tar');
  execFileSync('tar', ['-C', dir, '-cf', archive, 'manifest.json', `${id}.json`, `${diffId}.tar`]);
  return archive;
}

async function runToEnd(ctr: Container): Promise<string> {
  (await ctr.start())._unsafeUnwrap();
  await ctr.wait();
  let out = '';
  for await (const l of ctr.logs()) out += `${l.text}\n`;
  return out.trim();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'libpod-ts-images-'));
  const runtime = (await Runtime.open({ root: join(dir, 'root'), runRoot: join(dir, 'run') }))._unsafeUnwrap();
  try {
    const [image] = (await runtime.loadImages(dockerArchive(dir, busyboxRootfs(dir), 'example:1')))._unsafeUnwrap();
    console.log(`loaded ${image!.names.join(', ')} (${image!.id.slice(0, 12)})`);

    const first = (await runtime.newContainer({ image: 'example:1' }))._unsafeUnwrap();
    console.log(`run: ${await runToEnd(first)}`);

    const root = (await first.mount())._unsafeUnwrap();
    writeFileSync(join(root, 'etc', 'greeting'), 'hello from a commit\n');
    const committed = (await first.commit('example:2', { message: 'add a greeting', changes: ['CMD ["cat", "/etc/greeting"]'] }))._unsafeUnwrap();
    console.log(`committed ${committed.names[0]} (${committed.id.slice(0, 12)})`);

    const second = (await runtime.newContainer({ image: committed }))._unsafeUnwrap();
    console.log(`run: ${await runToEnd(second)}`);

    const saved = join(dir, 'example-2.oci.tar');
    (await runtime.saveImages(['example:2'], saved, { format: 'oci-archive' }))._unsafeUnwrap();
    for (const c of [first, second]) (await runtime.removeContainer(c, { force: true }))._unsafeUnwrap();
    (await runtime.removeImage('example:2'))._unsafeUnwrap();
    const [back] = (await runtime.loadImages(saved))._unsafeUnwrap();
    console.log(`saved and loaded back: ${back!.names[0]}, same id: ${back!.id === committed.id}`);
  } finally {
    for (const c of (await runtime.containers()).unwrapOr([])) await runtime.removeContainer(c, { force: true });
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
