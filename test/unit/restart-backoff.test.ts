/**
 * Restart throttling (Docker's restart manager): a crash-looping container
 * waits 100 ms before its first restart, twice as long before each next one,
 * at most a minute, and starts over at 100 ms after a run of 10 s. The wait
 * holds no lock, ends with a user's stop, start or removal, and survives the
 * process (the next open resumes it).
 *
 * Timing assertions are lower bounds only (a timer never fires early), so a
 * slow machine cannot make them fail; the delays themselves are read from
 * the saved state.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { nextRestartDelay } from '../../src/container/restart-backoff.js';
import type { Container, ContainerRecord } from '../../src/index.js';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/** Polls until `check` holds. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(5);
  }
  assert.fail('condition not reached in time');
}

describe('restart backoff (moby restartmanager rule)', () => {
  it('100 ms first, doubling, at most one minute; a run of 10 s or more starts over', () => {
    const seq: number[] = [];
    let prev = 0;
    for (let i = 0; i < 12; i++) seq.push((prev = nextRestartDelay(prev, 50)));
    assert.deepEqual(seq, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
    assert.equal(nextRestartDelay(6400, 9_999), 12800);
    assert.equal(nextRestartDelay(6400, 10_000), 100);
    assert.equal(nextRestartDelay(60000, 60_000), 100);
  });
});

describe('restart throttling on the fake runtime', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  const record = async (c: Container): Promise<ContainerRecord> => {
    const rec = await must(e.store.get('container', c.id));
    assert.ok(rec);
    return rec;
  };
  /** `c.wait()`, bounded: during the backoff the container is exited, so the wait must end. */
  const waitExit = async (c: Container): Promise<number> => {
    const r = await Promise.race([Promise.resolve(c.wait()), delay(5_000).then(() => undefined)]);
    assert.ok(r !== undefined, 'wait() saw the exit while the restart waits');
    return must(Promise.resolve(r));
  };
  const restartEvents = async (c: Container): Promise<Date[]> =>
    (await must(e.runtime.readEvents({ filter: { id: c.id, status: 'restart' } }))).map((ev) => ev.time);
  const runningAgain = (c: Container, count: number) => async (): Promise<boolean> =>
    e.fake.stateOf(c.id) === 'running' && (await must(c.inspect())).restartCount === count && (await must(c.state())) === 'running';

  /** Makes `c` exit `n` times, each time once it runs again; resolves to the exit times. */
  async function crashLoop(c: Container, n: number): Promise<number[]> {
    const exits: number[] = [];
    const before = (await must(c.inspect())).restartCount;
    for (let i = 1; i <= n; i++) {
      exits.push(Date.now());
      e.fake.exit(c.id, 1);
      await eventually(runningAgain(c, before + i));
    }
    return exits;
  }

  it('consecutive restarts of a crash-looping container are spaced 100, 200, 400, 800 ms, counted', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    const backoffs: (number | undefined)[] = [];
    const exits: number[] = [];
    for (let i = 1; i <= 4; i++) {
      exits.push(Date.now());
      e.fake.exit(c.id, 1);
      // The exit is seen at once; the restart waits, the container exited meanwhile.
      assert.equal(await waitExit(c), 1);
      backoffs.push((await record(c)).state.restartBackoffMs);
      await eventually(runningAgain(c, i));
    }
    assert.deepEqual(backoffs, [100, 200, 400, 800]);
    const restarts = await restartEvents(c);
    assert.equal(restarts.length, 4);
    restarts.forEach((at, i) => {
      const waited = at.getTime() - (exits[i] as number);
      assert.ok(waited >= (backoffs[i] as number) - 2, `restart ${i + 1} came ${waited} ms after its exit, before its ${backoffs[i]} ms backoff`);
    });
    const info = await must(c.inspect());
    assert.equal(info.restartCount, 4);
    assert.equal((await record(c)).state.restartAt, undefined, 'no restart left pending');
  });

  it('the wait holds no lock: the container is exited and every verb answers meanwhile', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    const other = await e.create();
    await must(c.start());
    await crashLoop(c, 3); // next backoff: 800 ms
    e.fake.exit(c.id, 1);
    const t0 = Date.now();
    assert.equal(await waitExit(c), 1);
    assert.equal(await must(c.state()), 'exited');
    const rec = await record(c);
    assert.equal(rec.state.restartBackoffMs, 800);
    assert.ok(rec.state.restartAt !== undefined);
    await must(c.inspect());
    await must(other.start());
    await must(other.stop({ timeout: 0 }));
    if (Date.now() - t0 < 700) assert.equal((await must(c.inspect())).restartCount, 3, 'not restarted before its backoff');
    await eventually(runningAgain(c, 4));
  });

  it('a stop during the backoff calls the restart off: never restarted, the exit counts as the user\'s', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    await crashLoop(c, 3); // next backoff: 800 ms
    e.fake.exit(c.id, 7);
    assert.equal(await waitExit(c), 7);
    await must(c.stop());
    assert.equal((await record(c)).state.restartAt, undefined);
    await delay(1_000);
    assert.equal(await must(c.state()), 'exited');
    assert.equal((await must(c.inspect())).restartCount, 3);
    assert.equal((await restartEvents(c)).length, 3);
    assert.notEqual(e.fake.stateOf(c.id), 'running');
    // Stopped already: a second stop is CtrStopped, as before.
    assert.equal((await mustFail(c.stop())).code, 'CtrStopped');
    // A user start begins a new history: the first restart waits 100 ms again.
    await must(c.start());
    assert.equal((await must(c.inspect())).restartCount, 0);
    e.fake.exit(c.id, 1);
    await waitExit(c);
    assert.equal((await record(c)).state.restartBackoffMs, 100);
    await eventually(runningAgain(c, 1));
  });

  it('a removal during the backoff calls the restart off', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    await crashLoop(c, 2); // next backoff: 400 ms
    e.fake.exit(c.id, 1);
    await waitExit(c);
    await must(e.runtime.removeContainer(c));
    await delay(600);
    assert.deepEqual(e.fake.containers(), []);
    assert.equal((await must(e.runtime.readEvents({ filter: { id: c.id, status: 'start' } }))).length, 3);
  });

  it('a process gone during the backoff (close) leaves the restart to the next open', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    e.fake.exit(c.id, 1);
    await waitExit(c);
    assert.ok((await record(c)).state.restartAt !== undefined);
    await must(e.runtime.close());
    await delay(300);
    assert.notEqual(e.fake.stateOf(c.id), 'running', 'no restart while no runtime is open');
    const rt = await e.reopen();
    const again = await must(rt.lookupContainer(c.id));
    await eventually(async () => e.fake.stateOf(c.id) === 'running' && (await must(again.inspect())).restartCount === 1);
    assert.equal((await record(c)).state.restartAt, undefined);
  });

  it('an exit recorded but never cleaned up (process gone) gets its restart at the next open', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    await must(e.runtime.close());
    // What a process killed between saving the exit and running Cleanup leaves behind.
    await must(e.store.open());
    const rec = await record(c);
    rec.state = { ...rec.state, state: 'stopped', pid: 0, exitCode: 3, exited: true, finishedAt: new Date().toISOString(), restartPolicyMatch: true };
    await must(e.store.write([{ op: 'put', kind: 'container', key: c.id, value: rec }]));
    e.fake.exit(c.id, 3);
    const rt = await e.reopen();
    const again = await must(rt.lookupContainer(c.id));
    await eventually(async () => e.fake.stateOf(c.id) === 'running' && (await must(again.inspect())).restartCount === 1);
  });

  it('a run of 10 s or more resets the backoff to 100 ms', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    await crashLoop(c, 3);
    assert.equal((await record(c)).state.restartBackoffMs, 400);
    // As if it had started 11 s ago (the run length is finishedAt - startedAt).
    const rec = await record(c);
    rec.state.startedAt = new Date(Date.now() - 11_000).toISOString();
    await must(e.store.write([{ op: 'put', kind: 'container', key: c.id, value: rec }]));
    e.fake.exit(c.id, 1);
    await waitExit(c);
    assert.equal((await record(c)).state.restartBackoffMs, 100);
    await eventually(runningAgain(c, 4));
  });
});
