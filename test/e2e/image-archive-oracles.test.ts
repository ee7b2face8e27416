/**
 * Independent oracles for the archive formats (no Runtime involved): what
 * our writers produce is read by skopeo and unpacked by umoci (whiteouts
 * applied), and what skopeo and podman write is read by our readers with
 * the same image ids.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/host/command.js';
import { openImageArchive } from '../../src/image/transports/open-archive.js';
import { saveArchive } from '../../src/image/transports/save-archive.js';
import type { ArchiveFormat } from '../../src/image/transports/types.js';
import { busyboxImage, sha256, toSave, whiteoutImage, writeOciDir, type BuiltImage } from '../fixtures/images.js';
import { privatePodman, type PrivatePodman } from './support/podman.js';

let dir: string;
let bb: BuiltImage;
let wh: BuiltImage;
let podman: PrivatePodman;

async function tool(cmd: string, args: string[]): Promise<string> {
  const r = await runCommand(cmd, args, { timeoutMs: 120_000, notFoundCode: 'Internal' });
  if (r.isErr()) throw r.error;
  assert.equal(r.value.code, 0, `${cmd} ${args.join(' ')}: ${r.value.stderr}`);
  return r.value.stdout;
}

const transport: Record<ArchiveFormat, string> = { 'docker-archive': 'docker-archive', 'oci-archive': 'oci-archive', 'oci-dir': 'oci' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-oracles-'));
  bb = await busyboxImage();
  wh = await whiteoutImage();
  podman = await privatePodman();
});

after(async () => {
  await podman.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('archives we write, read by skopeo and umoci', () => {
  for (const format of ['docker-archive', 'oci-archive', 'oci-dir'] as ArchiveFormat[]) {
    it(`skopeo inspects our ${format}: same config digest, layers and tag`, async () => {
      const dest = join(dir, `ours-${format}`);
      (await saveArchive([toSave(wh, ['docker.io/library/wh:1'])], dest, format))._unsafeUnwrap();
      const ref = format === 'docker-archive' ? `${transport[format]}:${dest}` : `${transport[format]}:${dest}:docker.io/library/wh:1`;
      const config = Buffer.from(await tool('skopeo', ['inspect', '--raw', '--config', ref]));
      assert.equal(sha256(config), wh.configDigest);
      const info = JSON.parse(await tool('skopeo', ['inspect', ref])) as { Layers: string[]; RepoTags?: string[] };
      assert.equal(info.Layers.length, 2);
    });
  }

  it('umoci unpacks our oci-dir with the whiteouts applied', async () => {
    const dest = join(dir, 'ours-umoci');
    (await saveArchive([toSave(wh, ['wh'])], dest, 'oci-dir'))._unsafeUnwrap();
    const bundle = join(dir, 'bundle');
    await tool('umoci', ['unpack', '--image', `${dest}:wh`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    assert.equal(existsSync(join(rootfs, 'bin/busybox')), true);
    assert.equal(existsSync(join(rootfs, 'etc/a')), false);
    assert.equal(await readFile(join(rootfs, 'etc/b'), 'utf8'), 'B\n');
    assert.equal(existsSync(join(rootfs, 'etc/dir/x')), false);
    assert.equal(await readFile(join(rootfs, 'etc/dir/z'), 'utf8'), 'Z\n');
  });
});

describe('archives skopeo and podman write, read by us with the same ids', () => {
  it('skopeo copy to docker-archive, oci-archive and oci', async () => {
    const src = join(dir, 'src-layout');
    await writeOciDir(src, [{ image: bb, name: 'bb' }]);
    for (const [t, dest] of [
      ['docker-archive', join(dir, 'sk.docker.tar')],
      ['oci-archive', join(dir, 'sk.oci.tar')],
      ['oci', join(dir, 'sk.oci')],
    ] as const) {
      await tool('skopeo', ['copy', '-q', `oci:${src}:bb`, `${t}:${dest}:localhost/bb:1`]);
      const a = (await openImageArchive(dest, { tmpDir: join(dir, 'tmp') }))._unsafeUnwrap();
      assert.equal(a.images.length, 1);
      assert.equal(a.images[0]!.config.digest, bb.configDigest, t);
      assert.deepEqual(a.images[0]!.names, ['localhost/bb:1'], t);
      await a.close();
    }
  });

  it('podman save in every format', async () => {
    const src = join(dir, 'for-podman.tar');
    (await saveArchive([toSave(wh, ['localhost/wh:1'])], src, 'docker-archive'))._unsafeUnwrap();
    const loaded = await podman.run(['load', '-i', src]);
    assert.match(loaded, /localhost\/wh:1/);
    const id = (await podman.run(['image', 'inspect', '--format', '{{.Id}}', 'localhost/wh:1'])).trim();
    assert.equal(id, wh.id);
    for (const format of ['docker-archive', 'oci-archive', 'oci-dir'] as const) {
      const out = join(dir, `podman-${format}`);
      await podman.run(['save', '--format', format, '-o', out, 'localhost/wh:1']);
      const a = (await openImageArchive(out, { tmpDir: join(dir, 'tmp') }))._unsafeUnwrap();
      assert.equal(a.images[0]!.config.digest, wh.configDigest, format);
      assert.deepEqual(a.images[0]!.names, ['localhost/wh:1'], format);
      await a.close();
    }
  });
});
