import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResultAsync } from 'neverthrow';
import { Runtime, type OciRuntime } from '../../src/index.js';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

describe('container lifecycle on the fake runtime', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('creates a configured container with a 64-hex id and defaults in config()', async () => {
    const c = await e.create({ name: 'web', labels: { app: 'x' } });
    assert.match(c.id, /^[0-9a-f]{64}$/);
    assert.equal(c.name, 'web');
    assert.equal(await must(c.state()), 'configured');
    const cfg = c.config();
    assert.deepEqual(cfg.command, ['/bin/sleep', '1000']);
    assert.equal(cfg.stopTimeout, 10);
    assert.equal(cfg.restartPolicy, 'no');
    assert.equal(cfg.rootfsOverlay, false);
    assert.deepEqual(cfg.labels, { app: 'x' });
    cfg.labels.app = 'mutated';
    assert.equal(c.config().labels.app, 'x', 'config() returns a copy');
  });

  it('generates a name when none is given', async () => {
    const c = await e.create();
    assert.match(c.name, /^[a-z]+_[a-z]+/);
  });

  it('init creates in the runtime; a second init is CtrStateInvalid', async () => {
    const c = await e.create();
    await must(c.init());
    assert.equal(await must(c.state()), 'created');
    assert.equal(e.fake.stateOf(c.id), 'created');
    assert.equal((await mustFail(c.init())).code, 'CtrStateInvalid');
  });

  it('start, exit with a code, wait resolves to it; the container ends exited', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal(await must(c.state()), 'running');
    const waiting = c.wait();
    e.fake.exit(c.id, 7);
    assert.equal(await must(waiting), 7);
    assert.equal(await must(c.state()), 'exited');
    const info = await must(c.inspect());
    assert.equal(info.exitCode, 7);
    assert.ok(info.finishedAt instanceof Date);
    assert.ok(info.startedAt instanceof Date);
    assert.equal(info.pid, 0);
  });

  it('a second start of a running container is CtrStateInvalid', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(c.start())).code, 'CtrStateInvalid');
  });

  it('start of an exited container runs it again', async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.exit(c.id, 0);
    await must(c.wait());
    await must(c.start());
    assert.equal(await must(c.state()), 'running');
  });

  it('stop sends the stop signal: 143 for SIGTERM; stopping again is CtrStopped', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.stop());
    assert.equal(await must(c.state()), 'exited');
    assert.equal((await must(c.inspect())).exitCode, 143);
    assert.equal((await mustFail(c.stop())).code, 'CtrStopped');
  });

  it('stop escalates to SIGKILL after the timeout when the signal is ignored', async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.ignoreSignals(c.id, ['SIGTERM']);
    const t0 = Date.now();
    await must(c.stop({ timeout: 1 }));
    assert.ok(Date.now() - t0 >= 900, 'waited for the timeout');
    assert.equal((await must(c.inspect())).exitCode, 137);
  });

  it('stop with timeout 0 kills at once', async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.ignoreSignals(c.id, ['SIGTERM']);
    const t0 = Date.now();
    await must(c.stop({ timeout: 0 }));
    assert.ok(Date.now() - t0 < 900);
    assert.equal((await must(c.inspect())).exitCode, 137);
  });

  it('stop of a configured container is CtrStateInvalid', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.stop())).code, 'CtrStateInvalid');
  });

  it('kill defaults to SIGKILL (137); kill of a stopped container is CtrStateInvalid', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.kill())).code, 'CtrStateInvalid');
    await must(c.start());
    await must(c.kill());
    assert.equal(await must(c.wait()), 137);
    assert.equal((await mustFail(c.kill())).code, 'CtrStateInvalid');
  });

  it('kill with a named signal ends it with 128+signal', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.kill('SIGUSR1'));
    assert.equal(await must(c.wait()), 138);
  });

  it('pause and unpause, with their state errors', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.pause())).code, 'CtrStateInvalid');
    await must(c.start());
    assert.equal((await mustFail(c.unpause())).code, 'CtrStateInvalid');
    await must(c.pause());
    assert.equal(await must(c.state()), 'paused');
    assert.equal((await mustFail(c.pause())).code, 'CtrStateInvalid');
    assert.equal((await mustFail(c.stop())).code, 'CtrStateInvalid');
    await must(c.unpause());
    assert.equal(await must(c.state()), 'running');
  });

  it('restart stops and starts a running container', async () => {
    const c = await e.create();
    await must(c.start());
    const pid1 = (await must(c.inspect())).pid;
    await must(c.restart({ timeout: 0 }));
    const info = await must(c.inspect());
    assert.equal(info.state, 'running');
    assert.notEqual(info.pid, pid1);
  });

  it('restart of a paused container is CtrStateInvalid', async () => {
    const c = await e.create();
    await must(c.start());
    await must(c.pause());
    assert.equal((await mustFail(c.restart())).code, 'CtrStateInvalid');
  });

  it('wait with a condition resolves when that state is reached', async () => {
    const c = await e.create();
    const w = c.wait({ condition: 'running', interval: 20 });
    await must(c.start());
    assert.equal(await must(w), 0);
  });

  it('a failed runtime create leaves the container configured', async () => {
    const c = await e.create();
    e.fake.failNext('create');
    assert.equal((await mustFail(c.start())).code, 'OCIRuntime');
    assert.equal(await must(c.state()), 'configured');
    await must(c.start());
    assert.equal(await must(c.state()), 'running');
  });

  it("a failed runtime start leaves the state as it was (the seeds' start() has no cleanup)", async () => {
    const c = await e.create();
    e.fake.failNext('start');
    assert.equal((await mustFail(c.start())).code, 'OCIRuntime');
    assert.equal(await must(c.state()), 'created');
    assert.equal(e.fake.stateOf(c.id), 'created', 'still created in the runtime');
    await must(c.start());
    assert.equal(await must(c.state()), 'running');
  });

  it('a failed runtime start in startAndAttach leaves the container created too', async () => {
    const c = await e.create();
    e.fake.failNext('start');
    assert.equal((await mustFail(c.startAndAttach({}))).code, 'OCIRuntime');
    assert.equal(await must(c.state()), 'created');
    assert.equal(e.fake.stateOf(c.id), 'created');
  });

  it('a container that exits before the runtime start returns never finishes before it started', async () => {
    // runc start returns a moment after the process ran and ended: seen through an OciRuntime
    // whose start ends the process, then takes 30 ms to return.
    const slowStart = new Proxy(e.fake, {
      get(target, prop) {
        if (prop === 'start') {
          return (id: string) =>
            target.start(id).andThen(() => {
              target.exit(id, 3);
              return ResultAsync.fromSafePromise(delay(30));
            });
        }
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as OciRuntime;
    await must(e.runtime.close());
    const rt = await must(Runtime.open({ root: e.root, runRoot: e.runRoot, store: e.store, ociRuntime: slowStart }));
    try {
      const c = await must(rt.newContainer({ rootfs: e.rootfs, command: ['true'] }));
      await must(c.start());
      assert.equal(await must(c.wait()), 3);
      const info = await must(c.inspect());
      assert.ok(info.startedAt && info.finishedAt, 'both times recorded');
      assert.ok(info.finishedAt.getTime() >= info.startedAt.getTime(), `finishedAt ${info.finishedAt.toISOString()} before startedAt ${info.startedAt.toISOString()}`);
    } finally {
      await rt.close();
    }
  });

  it('cleanup refuses running containers and cleans stopped ones', async () => {
    const c = await e.create();
    await must(c.start());
    assert.equal((await mustFail(c.cleanup())).code, 'CtrStateInvalid');
    e.fake.exit(c.id, 0);
    await must(c.wait());
    await must(c.cleanup());
    assert.equal(await must(c.state()), 'exited');
  });

  it('sync reports a runtime-side change and emits sync', async () => {
    const c = await e.create();
    await must(c.start());
    e.fake.exit(c.id, 3);
    await must(c.sync());
    const info = await must(c.inspect());
    assert.equal(info.exitCode, 3);
    assert.notEqual(info.state, 'running');
  });

  it('refresh returns a running container to running with a new process', async () => {
    const c = await e.create();
    await must(c.start());
    const before = (await must(c.inspect())).pid;
    await must(c.refresh());
    const after = await must(c.inspect());
    assert.equal(after.state, 'running');
    assert.notEqual(after.pid, before);
  });

  it('refresh keeps a paused container paused and a configured one configured', async () => {
    const a = await e.create();
    await must(a.start());
    await must(a.pause());
    await must(a.refresh());
    assert.equal(await must(a.state()), 'paused');
    const b = await e.create();
    await must(b.refresh());
    assert.equal(await must(b.state()), 'configured');
  });

  it('mount and unmount count user mounts', async () => {
    const c = await e.create();
    const mp = await must(c.mount());
    assert.equal(mp, e.rootfs);
    assert.equal((await must(c.inspect())).mountPoint, e.rootfs);
    await must(c.unmount());
    assert.equal((await must(c.inspect())).mountPoint, undefined);
  });
});
