/**
 * netavark's half of a setup runs while the OCI runtime creates the
 * container (nothing runs in the namespace before the start), and a
 * failure of either is undone as when they ran one after the other. On the
 * fake runtime and the fake network backend; the order of calls is what is
 * checked, never a duration.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResultAsync } from 'neverthrow';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

/**
 * Records the order of the backend's setups and the OCI create; with `gate`, a setup waits
 * until the create was called (at most 10 s: the sequential order then shows).
 */
function recordOrder(e: FakeEngine, gate: boolean): string[] {
  const order: string[] = [];
  let created: () => void = () => undefined;
  const createCalled = new Promise<void>((resolve) => (created = resolve));
  const setup = e.network.setup.bind(e.network);
  e.network.setup = (path, req) => {
    order.push('setup begins');
    let timer: NodeJS.Timeout | undefined;
    const waited = gate ? Promise.race([createCalled, new Promise<void>((r) => (timer = setTimeout(r, 10_000)))]) : Promise.resolve();
    return ResultAsync.fromSafePromise(waited).andThen(() => {
      clearTimeout(timer);
      order.push('setup ends');
      return setup(path, req);
    });
  };
  const create = e.fake.create.bind(e.fake);
  e.fake.create = (req) => {
    order.push('create called');
    created();
    return create(req);
  };
  return order;
}

describe('network wiring during the OCI create (fake backend)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
    await must(e.runtime.newNetwork({ name: 'n1', subnet: '10.89.221.0/24', dnsServers: ['127.0.0.1'] }));
  });
  afterEach(async () => e.dispose());

  it('calls the OCI create while netavark sets up; the /etc files have their content at the start', async () => {
    const order = recordOrder(e, true);
    const c = await e.create({ networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(c.start());
    assert.deepEqual(order, ['setup begins', 'create called', 'setup ends']);
    const info = await must(c.inspect());
    assert.equal(info.state, 'running');
    assert.equal(info.networkSettings.networks.n1?.ipAddress, '10.89.221.2');
    const hosts = await readFile(join(e.runRoot, 'containers', c.id, 'etc', 'hosts'), 'utf8');
    assert.match(hosts, /10\.89\.221\.2\t/);
    assert.match(await readFile(join(e.runRoot, 'containers', c.id, 'etc', 'resolv.conf'), 'utf8'), /^nameserver 10\.89\.221\.1$/m);
  });

  it('a failed setup deletes the created container and releases everything; a failed create tears the setup down', async () => {
    const c = await e.create({ networks: { n1: {} } });
    e.network.failNext('setup');
    assert.equal((await mustFail(c.start())).code, 'Internal');
    assert.equal((await must(e.fake.status(c.id))).status, 'missing');
    assert.equal((await must(c.inspect())).state, 'configured');
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});

    e.fake.failNext('create');
    assert.equal((await mustFail(c.start())).code, 'OCIRuntime');
    assert.deepEqual(e.network.calls.map((x) => x.split(' ')[0]), ['setup', 'setup', 'teardown']);
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});
    assert.equal((await must(c.inspect())).networkSettings.networks.n1?.ipAddress, '');

    await must(c.start());
    assert.equal((await must(c.inspect())).state, 'running');
  });

  it('with OCI hooks, netavark sets up before the create, as libpod does', async () => {
    const order = recordOrder(e, false);
    const hooksDir = join(e.root, 'hooks');
    await mkdir(hooksDir);
    const c = await e.create({ networks: { n1: {} }, hooksDir });
    await must(c.start());
    assert.deepEqual(order, ['setup begins', 'setup ends', 'create called']);
  });
});
