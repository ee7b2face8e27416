/**
 * Root filesystems on real containers (conmon + runc): a symlink in the
 * rootfs never makes the engine read or write the host, an overlay rootfs
 * keeps its base's root owner and mode, and a paused container is removed
 * by force. Root only; ends by asserting that nothing it made is left.
 */
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions } from '../../src/index.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { must } from '../support/engine.js';
import { collect, sh } from './support/shell.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;

describe('root filesystems on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let hostDir: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];

  async function create(opts: Partial<ContainerCreateOptions>): Promise<Container> {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'], ...opts }));
    made.push(c);
    return c;
  }

  /** Runs a command to completion in a new container; its exit code and output. */
  async function run(command: string[], opts: Partial<ContainerCreateOptions> = {}): Promise<{ code: number; out: string }> {
    const c = await create({ command, ...opts });
    const out = collect();
    const { done } = await must(c.startAndAttach({ stdout: out.stream, stderr: out.stream }));
    await must(done);
    return { code: await must(c.wait()), out: out.text().trim() };
  }

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-rootfs-sec-');
    rootfs = await buildBusyboxRootfs(join(roots.dir, 'rootfs'));
    hostDir = join(roots.dir, 'host-dir');
    await mkdir(join(hostDir, 'x'), { recursive: true });
    await writeFile(join(hostDir, 'x', 'secret'), 'host only\n');
    await symlink(hostDir, join(rootfs, 'srv'));
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    await must(rt.pruneVolumes());
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it('a volume at /srv/x with /srv -> <host dir>: copy-up copies nothing from the host, which stays untouched', async () => {
    const r = await run(['/bin/sh', '-c', 'ls -A /srv/x; echo done'], { volumes: [{ name: 'srv-x', dest: '/srv/x' }] });
    assert.equal(r.code, 0);
    assert.equal(r.out, 'done');
    const vol = await must(rt.lookupVolume('srv-x'));
    assert.deepEqual(await readdir(vol.mountPoint()), []);
    assert.deepEqual(await readdir(hostDir), ['x']);
    assert.deepEqual(await readdir(join(hostDir, 'x')), ['secret']);
  });

  it('a working directory behind /srv -> <host dir> is made inside the rootfs', async () => {
    const r = await run(['/bin/sh', '-c', 'pwd'], { workDir: '/srv/wd' });
    assert.equal(r.code, 0);
    assert.equal(r.out, `${hostDir}/wd`, 'the link target, inside the container');
    assert.ok((await stat(join(rootfs, hostDir, 'wd'))).isDirectory());
    assert.deepEqual(await readdir(hostDir), ['x']);
  });

  it("an overlay rootfs keeps its base's root owner and mode: a non-root user can run in it", async () => {
    const base = await buildBusyboxRootfs(join(roots.dir, 'base-0751'));
    await chown(base, 1234, 4321);
    await chmod(base, 0o751);
    const r = await run(['/bin/stat', '-c', '%a %u %g', '/'], { rootfs: base, rootfsOverlay: true, user: '65534' });
    assert.equal(r.code, 0);
    assert.equal(r.out, '751 1234 4321');
    const c = await create({ rootfs: base, rootfsOverlay: true, command: ['/bin/sleep', '1000'] });
    await must(c.start());
    assert.equal(await sh(c, 'su nobody -s /bin/sh -c true && echo ok'), 'ok');
    await must(c.stop({ timeout: 0 }));
    assert.equal(((await stat(base)).mode & 0o7777).toString(8), '751', 'the base is untouched');
  });
});
