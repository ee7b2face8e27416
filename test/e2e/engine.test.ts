/**
 * The engine on real containers (conmon + runc), through the public API.
 * Root only. Every container is removed and the file ends by asserting that
 * no process, mount or runc container it made is left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions } from '../../src/index.js';
import { buildBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { delay, must, mustFail } from '../support/engine.js';
import { collect } from './support/shell.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './support/leaks.js';

const root = process.getuid?.() === 0;


describe('engine on real containers', { skip: !root && 'needs root' }, () => {
  let roots: TestRoots;
  let rt: Runtime;
  let rootfs: string;
  let snapshot: HostSnapshot;
  const made: Container[] = [];

  async function create(opts: Partial<ContainerCreateOptions>): Promise<Container> {
    const c = await must(rt.newContainer({ rootfs, command: ['/bin/sleep', '1000'], ...opts }));
    made.push(c);
    return c;
  }

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots('lpts-engine-');
    rootfs = await buildBusyboxRootfs(join(roots.dir, 'rootfs'));
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
  });

  after(async () => {
    for (const c of made) await rt.removeContainer(c, { force: true, timeout: 0 });
    await must(rt.close());
    await assertNoLeaks(snapshot, { roots: [roots.dir], runcRoots: [join(roots.runRoot, 'runc')] });
    await roots.cleanup();
  });

  it("exit code of sh -c 'exit 7', with a died event", async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'exit 7'] });
    await must(c.start());
    assert.equal(await must(c.wait()), 7);
    assert.equal(await must(c.state()), 'exited');
    const died = await must(rt.readEvents({ filter: { id: c.id, status: 'died' } }));
    assert.equal(died[0]?.exitCode, 7);
  });

  it('restart policy on-failure: the exit watcher restarts it until the retries are used up', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'sleep 0.2; exit 3'], restartPolicy: 'on-failure', restartRetries: 2 });
    await must(c.start());
    const end = Date.now() + 10_000;
    let info = await must(c.inspect());
    while (Date.now() < end && !(info.state === 'exited' && info.restartCount === 2)) {
      await delay(100);
      info = await must(c.inspect());
    }
    assert.equal(info.state, 'exited');
    assert.equal(info.restartCount, 2);
    assert.equal(info.exitCode, 3);
    const restarts = await must(rt.readEvents({ filter: { id: c.id, status: 'restart' } }));
    assert.equal(restarts.length, 2);
  });

  it('stop of a process that traps SIGTERM ends with 137 after the timeout', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'] });
    await must(c.start());
    const t0 = Date.now();
    await must(c.stop({ timeout: 1 }));
    assert.ok(Date.now() - t0 >= 1000, `stopped after ${Date.now() - t0} ms`);
    assert.equal((await must(c.inspect())).exitCode, 137);
  });

  it('stop of a process that exits on SIGTERM is quick and gives 143 or 0', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done'] });
    await must(c.start());
    // A SIGTERM that comes before the trap is set is ignored (sh is PID 1): wait for it.
    for (let i = 0; i < 200; i++) {
      const lines: string[] = [];
      for await (const l of c.logs()) lines.push(l.text);
      if (lines.includes('ready')) break;
      await delay(50);
    }
    const t0 = Date.now();
    await must(c.stop({ timeout: 10 }));
    assert.ok(Date.now() - t0 < 5000);
    assert.equal((await must(c.inspect())).exitCode, 0);
  });

  it('kill ends it with 128+signal', async () => {
    const c = await create({});
    await must(c.start());
    await must(c.kill('SIGKILL'));
    assert.equal(await must(c.wait()), 137);
  });

  it('pause freezes it (a counter does not advance) and unpause resumes it', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter-$HOSTNAME; sleep 0.05; done'] });
    await must(c.start());
    const file = join(rootfs, 'tmp', `counter-${c.id.slice(0, 12)}`);
    await delay(300);
    await must(c.pause());
    assert.equal(await must(c.state()), 'paused');
    const a = readFileSync(file, 'utf8');
    await delay(400);
    assert.equal(readFileSync(file, 'utf8'), a, 'paused counter advanced');
    await must(c.unpause());
    await delay(400);
    assert.notEqual(readFileSync(file, 'utf8'), a, 'unpaused counter did not advance');
  });

  it('restart runs a new process', async () => {
    const c = await create({});
    await must(c.start());
    const pid = (await must(c.inspect())).pid;
    await must(c.restart({ timeout: 0 }));
    const info = await must(c.inspect());
    assert.equal(info.state, 'running');
    assert.notEqual(info.pid, pid);
    assert.ok(existsSync(`/proc/${info.pid}`));
  });

  it('exec: output, stderr and exit code; 127 for a missing command', async () => {
    const c = await create({});
    await must(c.start());
    const out = collect();
    const err = collect();
    const r = await must(c.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { streams: { stdout: out.stream, stderr: err.stream } }));
    assert.equal(r.exitCode, 3);
    assert.equal(out.text(), 'out\n');
    assert.equal(err.text(), 'err\n');
    assert.equal((await must(c.exec(['/nonexistent']))).exitCode, 127);
    assert.equal((await must(c.inspect())).execSessions.length, 0);
  });

  it('startAndAttach reads output and writes stdin', async () => {
    const c = await create({ command: ['/bin/cat'], stdin: true });
    const out = collect();
    const stdin = Readable.from(['hello from stdin\n']);
    const { done } = await must(c.startAndAttach({ stdout: out.stream, stdin }));
    await must(done);
    assert.equal(out.text(), 'hello from stdin\n');
    assert.equal(await must(c.wait()), 0);
  });

  it('logs with follow end when the container exits', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done'] });
    await must(c.start());
    const lines: string[] = [];
    for await (const l of c.logs({ follow: true })) lines.push(l.text);
    assert.deepEqual(lines, ['line1', 'line2', 'line3']);
    const tail = [];
    for await (const l of c.logs({ tail: 1 })) tail.push(l.text);
    assert.deepEqual(tail, ['line3']);
  });

  it('overlay rootfs: writes go to the container, the base stays untouched; export has them', async () => {
    const c = await create({ command: ['/bin/sh', '-c', 'echo data > /newfile; rm /bin/cat'], rootfsOverlay: true });
    await must(c.start());
    assert.equal(await must(c.wait()), 0);
    assert.ok(!existsSync(join(rootfs, 'newfile')));
    assert.ok(existsSync(join(rootfs, 'bin', 'cat')));
    const tar = join(roots.dir, 'export.tar');
    await must(c.export(tar));
    const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    assert.ok(names.some((n) => n.replace(/^\.?\//, '') === 'newfile'), 'newfile in export');
    assert.ok(names.some((n) => n.replace(/^\.?\//, '') === 'bin/busybox'));
    assert.ok(!names.some((n) => n.replace(/^\.?\//, '') === 'bin/cat'), 'deleted file not in export');
    const info = await must(c.inspect({ size: true }));
    assert.ok((info.rwSize ?? 0) > 0);
  });

  it('close and reopen: a running container is found running, one that exited meanwhile reports its code', async () => {
    const keep = await create({});
    const quick = await create({ command: ['/bin/sh', '-c', 'sleep 0.5; exit 4'] });
    await must(keep.start());
    await must(quick.start());
    await must(rt.close());
    await delay(1000);
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot }));
    const k = await must(rt.lookupContainer(keep.id));
    const q = await must(rt.lookupContainer(quick.id));
    made.splice(made.indexOf(keep), 1, k);
    made.splice(made.indexOf(quick), 1, q);
    assert.equal(await must(k.state()), 'running');
    assert.equal(await must(q.wait()), 4);
    assert.equal(await must(q.state()), 'exited');
    await must(k.stop({ timeout: 0 }));
  });

  it('kill -9 of the Node process: containers live on and the next runtime recovers them', async () => {
    const r2 = await makeTestRoots('lpts-crash-');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'engine-child.ts'), r2.root, r2.runRoot, rootfs], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
        });
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const ids = JSON.parse(line) as { short: string; long: string };
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await delay(1500);
      const rt2 = await must(Runtime.open({ root: r2.root, runRoot: r2.runRoot }));
      try {
        const short = await must(rt2.lookupContainer(ids.short));
        const long = await must(rt2.lookupContainer(ids.long));
        assert.equal(await must(short.wait()), 5);
        assert.equal(await must(long.state()), 'running');
        await must(rt2.removeContainer(long, { force: true, timeout: 0 }));
        await must(rt2.removeContainer(short));
      } finally {
        await rt2.close();
      }
    } finally {
      await r2.cleanup();
    }
  });

  it('removal of a running container needs force', async () => {
    const c = await create({});
    await must(c.start());
    assert.equal((await mustFail(rt.removeContainer(c))).code, 'CtrStateInvalid');
    await must(rt.removeContainer(c, { force: true, timeout: 0 }));
    made.splice(made.indexOf(c), 1);
    assert.equal((await mustFail(rt.lookupContainer(c.id))).code, 'NoSuchCtr');
  });
});
