import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LibpodError, LogLine } from '../../src/index.js';
import { collect } from '../support/streams.js';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';


async function all(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('attach, logs and export on the fake runtime', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('attach to a configured container is CtrStateInvalid', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.attach({ stdout: new PassThrough() }))).code, 'CtrStateInvalid');
  });

  it('startAndAttach delivers output from the very start and settles when the container exits', async () => {
    e.fake.onStart(() => ({ stdout: 'first line\n' }));
    const c = await e.create();
    const out = collect();
    const { done } = await must(c.startAndAttach({ stdout: out.stream }));
    assert.equal(await must(c.state()), 'running');
    await delay(20); // the fake plays its start script just after start resolved
    e.fake.emit(c.id, 'stdout', 'second\n');
    e.fake.exit(c.id, 0);
    assert.equal(await must(done), 'ended');
    assert.equal(out.text(), 'first line\nsecond\n');
  });

  it('attach copies stdin and honours detach keys', async () => {
    const c = await e.create({ stdin: true });
    await must(c.start());
    const stdin = new PassThrough();
    const attached = c.attach({ stdout: new PassThrough(), stdin }, { detachKeys: 'ctrl-x' });
    await delay(10);
    stdin.write('typed\n');
    await delay(10);
    stdin.write(Buffer.from([0x18]));
    assert.equal(await must(attached), 'detached');
    assert.equal(e.fake.stdinOf(c.id), 'typed\n');
    assert.equal(await must(c.state()), 'running');
  });

  it('attachResize needs a terminal and a created or running container', async () => {
    const plain = await e.create();
    await must(plain.start());
    assert.equal((await mustFail(plain.attachResize({ width: 80, height: 24 }))).code, 'InvalidArg');
    const tty = await e.create({ terminal: true });
    assert.equal((await mustFail(tty.attachResize({ width: 80, height: 24 }))).code, 'CtrStateInvalid');
    await must(tty.start());
    await must(tty.attachResize({ width: 100, height: 30 }));
    assert.deepEqual(e.fake.sizeOf(tty.id), { width: 100, height: 30 });
  });

  it('logs: lines, streams, tail, since/until; follow ends when the container exits', async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.emit(c.id, 'stdout', 'one\ntwo\n');
    e.fake.emit(c.id, 'stderr', 'oops\n');
    const lines = await all(c.logs());
    assert.deepEqual(lines.map((l) => [l.stream, l.text]), [['stdout', 'one'], ['stdout', 'two'], ['stderr', 'oops']]);
    assert.deepEqual((await all(c.logs({ tail: 1 }))).map((l) => l.text), ['oops']);
    assert.equal((await all(c.logs({ since: new Date(Date.now() + 60_000) }))).length, 0);
    const followed = all(c.logs({ follow: true }));
    await delay(50);
    e.fake.emit(c.id, 'stdout', 'late\n');
    await delay(50);
    e.fake.exit(c.id, 0);
    assert.deepEqual((await followed).map((l) => l.text), ['one', 'two', 'oops', 'late']);
    // Bad options: the call returns an iterable (never throws); iterating it rejects with InvalidArg.
    const badLogs = c.logs({ tail: -1 } as never);
    await assert.rejects(all(badLogs), (e: unknown) => (e as LibpodError).code === 'InvalidArg');
  });

  it('export writes the rootfs as a tar; a directory as target is InvalidArg', async () => {
    await mkdir(join(e.rootfs, 'etc'), { recursive: true });
    await writeFile(join(e.rootfs, 'etc', 'hello'), 'hi');
    const c = await e.create();
    const target = join(e.root, 'out.tar');
    await must(c.export(target));
    const names = execFileSync('tar', ['-tf', target], { encoding: 'utf8' });
    assert.match(names, /etc\/hello/);
    assert.equal((await mustFail(c.export(e.root))).code, 'InvalidArg');
    const stream = collect();
    await must(c.export(stream.stream));
    assert.ok(stream.text().length > 0);
    assert.equal((await must(c.inspect())).mountPoint, undefined, 'export leaves the storage as it found it');
  });

  it('sync notices a container the runtime lost (exit -1) and one it stopped', async () => {
    const c = await e.create();
    await must(c.start());
    await must(e.fake.delete(c.id)); // behind the engine's back, as if runc lost it
    await must(c.sync());
    const info = await must(c.inspect());
    assert.notEqual(info.state, 'running');
    assert.equal(info.exitCode, -1);
  });
});
