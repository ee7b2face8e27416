import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResultAsync } from 'neverthrow';
import { Runtime, type LibpodError, type OciRuntime } from '../../src/index.js';
import { delay, fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/** Polls until `check` holds (exit handling runs asynchronously). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(10);
  }
  assert.fail('condition not reached in time');
}

describe("a user's stop is never undone (issue 8, item 3)", () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  /** Reopens the engine on an OciRuntime that reports the persisted `stoppedByUser` when a signal goes out. */
  async function spying(): Promise<{ rt: Runtime; seen: (boolean | undefined)[] }> {
    const seen: (boolean | undefined)[] = [];
    const persisted = async (id: string): Promise<boolean | undefined> => (await e.store.get('container', id)).unwrapOr(undefined)?.state.stoppedByUser;
    const spy = new Proxy(e.fake, {
      get(target, prop) {
        if (prop === 'stop' || prop === 'kill') {
          const real = Reflect.get(target, prop) as (id: string, ...rest: unknown[]) => ResultAsync<unknown, LibpodError>;
          // What was persisted when the engine asked for the signal, before it goes out.
          return (id: string, ...rest: unknown[]) =>
            ResultAsync.fromSafePromise(persisted(id)).andThen((v) => {
              seen.push(v);
              return real.call(target, id, ...rest);
            });
        }
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as OciRuntime;
    await must(e.runtime.close());
    const rt = await must(Runtime.open({ root: e.root, runRoot: e.runRoot, store: e.store, ociRuntime: spy }));
    e.runtime = rt;
    return { rt, seen };
  }

  it('stop saves stoppedByUser before the stop signal is sent (as current podman)', async () => {
    const { rt, seen } = await spying();
    const c = await must(rt.newContainer({ rootfs: e.rootfs, command: ['sleep'], restartPolicy: 'always' }));
    await must(c.start());
    await must(c.stop({ timeout: 0 }));
    assert.deepEqual(seen, [true]);
  });

  it('kill saves it before the signal too; a signal the runtime refused leaves it unset', async () => {
    const { rt, seen } = await spying();
    const c = await must(rt.newContainer({ rootfs: e.rootfs, command: ['sleep'], restartPolicy: 'always' }));
    await must(c.start());
    e.fake.failNext('kill');
    assert.equal((await mustFail(c.kill(15))).code, 'OCIRuntime');
    assert.equal((await e.store.get('container', c.id)).unwrapOr(undefined)?.state.stoppedByUser, false);
    // Not the user's: an exit of its own is restarted by the policy.
    e.fake.exit(c.id, 1);
    await eventually(async () => (await must(c.inspect())).restartCount === 1);
    await must(c.kill(9));
    // Both kills were marked before their signal: the refused one, then this one.
    assert.deepEqual(seen, [true, true]);
    assert.equal(await must(c.wait()), 137);
    assert.equal((await must(c.inspect())).restartCount, 1, 'a killed container is not restarted');
  });
});

describe('runtime.close() and operations in flight (issue 8, item 3)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('waits for a stop in flight, which completes and is saved; calls made after close() began get RuntimeFinalized', async () => {
    const c = await e.create({ restartPolicy: 'always' });
    await must(c.start());
    assert.ok(e.fake.ignoreSignals(c.id, ['SIGTERM']).isOk());
    const stopping = c.stop({ timeout: 1 });
    await delay(50); // the stop now waits for its timeout
    const closing = e.runtime.close();
    assert.equal((await mustFail(c.state())).code, 'RuntimeFinalized');
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'] }))).code, 'RuntimeFinalized');
    await must(stopping);
    await must(closing);
    await e.reopen();
    const again = await must(e.runtime.lookupContainer(c.id));
    const info = await must(again.inspect());
    assert.equal(info.state, 'exited');
    assert.equal(info.exitCode, 137);
    assert.equal(info.restartCount, 0);
  });

  it('close() twice, and close() with nothing in flight, resolve', async () => {
    const first = e.runtime.close();
    const second = e.runtime.close();
    await must(first);
    await must(second);
    await must(e.runtime.close());
  });
});
