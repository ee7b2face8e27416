/**
 * Images on real containers (overlay driver, conmon + runc). Root only.
 * Whiteouts hide lower files, a non-root image user runs things, a 150-layer
 * image mounts (short `l/` links), kill -9 during a layer extraction leaves
 * nothing trusted and a retry works, two processes putting one image at once
 * both succeed with one copy. Ends by asserting that no process, mount or
 * runc container it made is left.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions } from '../../src/index.js';
import { spawnProcess, runChecked } from '../../src/host/command.js';
import { ImageStore } from '../../src/image/store/image-store.js';
import { chainIdOf } from '../../src/image/store/digest.js';
import { digestOf, imageDocs, layerTar, putTestImage, type TestEntry, type TestImageConfig } from '../fixtures/image-layers.js';
import { busyboxEntries } from '../fixtures/images.js';
import { must, mustFail } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;
const CHILD = fileURLToPath(new URL('../fixtures/image-store-child.ts', import.meta.url));

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';

async function baseLayer(): Promise<Buffer> {
  return layerTar([
    ...busyboxEntries(),
    { name: 'etc/passwd', content: PASSWD },
    { name: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
    { name: 'home/', type: 'directory' },
    { name: 'home/app/', type: 'directory', uid: 1000, gid: 1000, mode: 0o750 },
    { name: 'usr/', type: 'directory' },
    { name: 'usr/bin/', type: 'directory' },
    { name: 'usr/bin/id', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'usr/bin/wc', type: 'symlink', linkname: '/bin/busybox' },
  ]);
}

/** Runs the child that puts an image described by files; resolves to its output once it exits. */
function runChild(storage: string, spec: string): { out: Promise<string>; pid: number; lines: string[]; kill(): void } {
  const child = spawnProcess(process.execPath, ['--import', 'tsx', CHILD, storage, 'overlay', spec], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const out = new Promise<string>((resolve) => child.once('close', () => resolve(lines.join('\n'))));
  return { out, pid: child.pid ?? 0, lines, kill: () => child.kill('SIGKILL') };
}

/** Writes an image's files and a spec for the child; resolves to the spec path and the image id. */
async function writeSpec(dir: string, tars: Buffer[], names: string[]): Promise<{ spec: string; id: string; chain: string[] }> {
  await mkdir(dir, { recursive: true });
  const layers = [];
  for (const [i, t] of tars.entries()) {
    await writeFile(join(dir, `l${i}.tar`), t);
    layers.push({ blob: join(dir, `l${i}.tar`), diffId: digestOf(t) });
  }
  const docs = imageDocs(tars, tars);
  await writeFile(join(dir, 'manifest.json'), docs.manifest);
  await writeFile(join(dir, 'config.json'), docs.config);
  const spec = join(dir, 'spec.json');
  await writeFile(spec, JSON.stringify({ layers, manifest: join(dir, 'manifest.json'), config: join(dir, 'config.json'), names }));
  const chain: string[] = [];
  let parent: string | undefined;
  for (const t of tars) chain.push((parent = chainIdOf(parent, digestOf(t))));
  return { spec, id: digestOf(docs.config).slice(7), chain };
}

describe('images on real containers (overlay)', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let store: ImageStore;
  let storage: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];

  async function put(tars: Buffer[], config: TestImageConfig, names: string[] = []): Promise<string> {
    return (await putTestImage(store, tars, { names, config })).id;
  }

  /** Runs a container of `image` to its end; resolves to its exit code and output. */
  async function run(opts: Partial<ContainerCreateOptions> & { image: string }): Promise<{ code: number; out: string }> {
    const c = await must(rt.newContainer(opts));
    made.push(c);
    await must(c.start());
    const code = await must(c.wait());
    const lines: string[] = [];
    for await (const l of c.logs()) lines.push(l.text);
    return { code, out: lines.join('\n') };
  }

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-img-');
    storage = join(roots.dir, 'storage');
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot, storage: { path: storage, driver: 'overlay' } }));
    store = await must(ImageStore.open(storage));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    assert.deepEqual(await must(store.containerLayers()), [], 'container layers go with their containers');
    await must(rt.pruneImages({ all: true }));
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('whiteouts and opaque directories hide lower files in the container', async () => {
    const top = await layerTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.os-release' },
      { name: 'home/', type: 'directory' },
      { name: 'home/.wh..wh..opq' },
      { name: 'home/new', content: 'new\n' },
    ]);
    const id = await put([await baseLayer(), top], { Env: ['PATH=/bin:/usr/bin'] });
    const r = await run({ image: id, command: ['/bin/sh', '-c', 'ls /home; test -e /etc/os-release && echo visible; test -e /etc/passwd && echo passwd'] });
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.split('\n'), ['new', 'passwd']);
  });

  it('a layer\'s own trusted.overlay xattrs do not steer overlayfs: only its .wh..wh..opq makes a directory opaque', async () => {
    const top = await layerTar([
      { name: 'home/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
      { name: 'home/extra', content: 'e\n' },
    ]);
    const id = await put([await baseLayer(), top], { Env: ['PATH=/bin:/usr/bin'] });
    const r = await run({ image: id, command: ['/bin/ls', '/home'] });
    assert.deepEqual([r.code, r.out.split('\n')], [0, ['app', 'extra']], 'the lower home/app stays visible');
  });

  it('layer and container trees are tops of directory hierarchies (ext4: a block group each, away from the host\'s churn)', async (t) => {
    const fs = await runChecked('stat', ['-f', '-c', '%T', storage]);
    if (fs.isErr() || fs.value.stdout.trim() !== 'ext2/ext3') return t.skip(`storage is not on ext4 (${fs.isOk() ? fs.value.stdout.trim() : 'unknown'})`);
    for (const dir of ['overlay', 'overlay-containers']) {
      const flags = (await must(runChecked('lsattr', ['-d', join(storage, dir)]))).stdout.split(' ')[0] ?? '';
      assert.ok(flags.includes('T'), `${dir}: ${flags}`);
    }
  });

  it('a non-root image user runs things, in its home, with the image root kept', async () => {
    const id = await put([await baseLayer()], { User: 'app', WorkingDir: '/home/app', Cmd: ['/bin/sh', '-c', 'id -u; pwd; echo ok > f && cat f'], Env: ['PATH=/bin:/usr/bin'] });
    const r = await run({ image: id });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.out.split('\n'), ['1000', '/home/app', 'ok']);
  });

  it('a 150-layer image mounts and runs (lowers through short links)', async () => {
    const tars = [await baseLayer()];
    for (let i = 0; i < 150; i += 1) tars.push(await layerTar([{ name: 'l/', type: 'directory' }, { name: `l/${i}`, content: `${i}\n` }]));
    const id = await put(tars, { Env: ['PATH=/bin:/usr/bin'] });
    const c = await must(rt.newContainer({ image: id, command: ['/bin/sh', '-c', 'ls /l | wc -l; cat /l/0 /l/149'] }));
    made.push(c);
    const mp = await must(c.mount());
    assert.equal((await readdir(join(mp, 'l'))).length, 150);
    await must(c.unmount());
    await must(c.start());
    assert.equal(await must(c.wait()), 0);
    const lines: string[] = [];
    for await (const l of c.logs()) lines.push(l.text.trim());
    assert.deepEqual(lines, ['150', '0', '149']);
  });

  it('kill -9 during a layer extraction leaves nothing trusted; a retry works', async () => {
    const chunk = Buffer.alloc(256 * 1024, 7);
    const entries: TestEntry[] = [{ name: 'big/', type: 'directory' }];
    for (let i = 0; i < 800; i += 1) entries.push({ name: `big/${i}`, content: chunk });
    const big = await layerTar(entries);
    const { spec, chain } = await writeSpec(join(roots.dir, 'crash'), [big], ['localhost/crash:1']);
    const child = runChild(storage, spec);
    const record = join(storage, 'layers', `${chain[0]}.json`);
    // the layer is extracted under a temporary name (renamed to its chain id when whole)
    const staging = (): string[] => {
      try {
        return readdirSync(join(storage, 'overlay')).filter((n) => n.startsWith(`.tmp-${child.pid}-layer-`));
      } catch {
        return [];
      }
    };
    const deadline = Date.now() + 60_000;
    while (!staging().some((n) => existsSync(join(storage, 'overlay', n, 'diff', 'big', '10'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(existsSync(record), 'the layer is being extracted');
    assert.equal(JSON.parse(await readFile(record, 'utf8')).incomplete, true);
    assert.equal(existsSync(join(storage, 'overlay', chain[0] as string)), false, 'not under its chain id while incomplete');
    child.kill();
    await child.out;
    assert.equal(child.lines.some((l) => l.startsWith('image')), false, 'killed before it finished');
    assert.equal(staging().length, 1, 'the dead writer left its staging directory');
    // Another process (this one) opening the store sweeps what the dead writer left.
    const again = await must(ImageStore.open(storage));
    assert.equal((await mustFail(again.layer(chain[0] as string))).code, 'NoSuchImage');
    assert.equal(existsSync(record), false);
    assert.equal(existsSync(join(storage, 'overlay', chain[0] as string)), false);
    assert.deepEqual(staging(), [], 'its staging directory is swept');
    await must(again.putLayer({ blob: Readable.from([big]), diffId: digestOf(big) }));
    assert.equal((await must(again.layer(chain[0] as string))).diffSize, big.length);
  });

  it('two processes putting the same image at once both succeed, with one copy', async () => {
    const tars = [await baseLayer(), await layerTar([{ name: 'twice', content: 'x' }])];
    const { spec, id, chain } = await writeSpec(join(roots.dir, 'twice'), tars, ['localhost/twice:1']);
    const [a, b] = [runChild(storage, spec), runChild(storage, spec)];
    const outs = await Promise.all([a.out, b.out]);
    for (const o of outs) assert.ok(o.split('\n').includes(`image ${id}`), o);
    const layerDirs = (await readdir(join(storage, 'overlay'))).filter((d) => chain.includes(d));
    assert.deepEqual(layerDirs.sort(), [...chain].sort());
    const links = await readdir(join(storage, 'overlay', 'l'));
    const targets = await Promise.all(links.map((l) => runChecked('readlink', [join(storage, 'overlay', 'l', l)]).map((o) => o.stdout.trim())));
    for (const c of chain) assert.equal(targets.filter((t) => t.isOk() && t.value === `../${c}/diff`).length, 1, 'one link per layer');
    const r = await run({ image: 'localhost/twice:1', command: ['/bin/cat', '/twice'] });
    assert.deepEqual([r.code, r.out], [0, 'x']);
  });
});
