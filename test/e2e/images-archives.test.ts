/**
 * Images on real containers (overlay, conmon + runc): a loaded image runs;
 * a running container's changes (new file, deleted file, a directory
 * replaced, so opaque) are committed while it is paused; the new image runs
 * with them; saved archives load into podman with the same id and podman's
 * saves load here with the same id. Nothing leaks.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container } from '../../src/index.js';
import { busyboxImage, writeDockerArchive, type BuiltImage } from '../fixtures/images.js';
import { must } from '../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';
import { privatePodman, type PrivatePodman } from './support/podman.js';

const isRoot = process.getuid?.() === 0;

async function output(ctr: Container): Promise<string> {
  let out = '';
  for await (const l of ctr.logs()) out += `${l.text}\n`;
  return out;
}

describe('images on real containers', { skip: isRoot ? false : 'needs root' }, () => {
  let snapshot: HostSnapshot;
  let roots: TestRoots;
  let rt: Runtime;
  let podman: PrivatePodman;
  let bb: BuiltImage;

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-images-');
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot, storage: { driver: 'overlay' } }));
    podman = await privatePodman();
    bb = await busyboxImage({ cmd: ['sh', '-c', 'cat /etc/os-release'] });
    await writeDockerArchive(join(roots.dir, 'bb.tar'), [{ image: bb, tags: ['bb:1'] }]);
  });

  after(async () => {
    for (const c of (await rt.containers()).unwrapOr([])) await rt.removeContainer(c, { force: true });
    await rt.close();
    await podman.cleanup();
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('commits a paused running container; the new image runs with its changes', async () => {
    const [img] = await must(rt.loadImages(join(roots.dir, 'bb.tar')));
    assert.equal(img!.id, bb.id);
    const ctr = await must(rt.newContainer({ image: 'bb:1', command: ['sh', '-c', 'echo added > /etc/added; rm /etc/os-release; rm -rf /tmp; mkdir /tmp; echo fresh > /tmp/only; sleep 300'] }));
    await must(ctr.start());
    for (let i = 0; i < 100 && (await must(ctr.exec(['test', '-f', '/tmp/only']))).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    const committed = await must(ctr.commit('committed:1', { pause: true, changes: ['CMD ["sh", "-c", "cat /etc/added; ls /etc; ls -a /tmp"]'] }));
    assert.equal((await must(ctr.inspect())).state, 'running', 'unpaused after the commit');
    const next = await must(rt.newContainer({ image: committed }));
    await must(next.start());
    assert.equal(await must(next.wait()), 0);
    const out = await output(next);
    assert.match(out, /^added$/m);
    assert.doesNotMatch(out, /os-release/);
    assert.match(out, /^only$/m);
    await must(rt.removeContainer(next, { force: true }));
    await must(rt.removeContainer(ctr, { force: true, timeout: 0 }));
  });

  it('our saves load into podman with the same id; podman saves load here with the same id', async () => {
    const committed = await must(rt.lookupImage('committed:1'));
    for (const format of ['docker-archive', 'oci-archive'] as const) {
      const file = join(roots.dir, `ours.${format}.tar`);
      await must(rt.saveImages(['committed:1'], file, { format }));
      await podman.run(['load', '-q', '-i', file]);
      const id = (await podman.run(['image', 'inspect', '--format', '{{.Id}}', 'localhost/committed:1'])).trim();
      assert.equal(id, committed.id, format);
      const out = (await podman.run(['run', '--rm', '--network', 'none', 'localhost/committed:1'])).toString();
      assert.match(out, /^added$/m, `podman runs our ${format}`);
      await podman.run(['rmi', '-f', 'localhost/committed:1']);
    }
    await podman.run(['load', '-q', '-i', join(roots.dir, 'bb.tar')]);
    await podman.run(['tag', 'localhost/bb:1', 'localhost/from-podman:1']);
    for (const format of ['docker-archive', 'oci-archive', 'oci-dir'] as const) {
      const out = join(roots.dir, `podman.${format}`);
      await podman.run(['save', '--format', format, '-o', out, 'localhost/from-podman:1']);
      const [img] = await must(rt.loadImages(out));
      assert.equal(img!.id, bb.id, format);
      assert.ok(img!.names.includes('localhost/from-podman:1'), format);
    }
  });
});
