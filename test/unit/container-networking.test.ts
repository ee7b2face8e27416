import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

const SAFE = { dnsServers: ['127.0.0.1'] };

/** Bridge networking rules on the fake runtime and the fake network backend (the namespace itself needs root: see e2e). */
describe('container networking (fake backend)', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
    await must(e.runtime.newNetwork({ name: 'n1', subnet: '10.89.220.0/24', ...SAFE }));
  });
  afterEach(async () => e.dispose());

  it('validates the networking options, changing nothing', async () => {
    const bad: Record<string, unknown>[] = [
      { network: 'bogus' },
      { network: { container: '' } },
      { networks: { n1: { aliases: 'x' } } },
      { networks: { n1: { staticIPs: ['nope'] } } },
      { networks: { n1: { bogus: 1 } } },
      { ports: [{ containerPort: 0 }] },
      { ports: [{ containerPort: 80, hostPort: 70000 }] },
      { ports: [{ containerPort: 80, protocol: 'sctp' }] },
      { ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81, hostPort: 8080 }] },
      { network: 'none', ports: [{ containerPort: 80 }] },
      { network: 'host', networks: { n1: {} } },
      { dns: ['x'] },
      { hostname: '-bad-' },
      { hosts: { db: 'nope' } },
    ];
    for (const opts of bad) assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], ...opts } as never))).code, 'InvalidArg', JSON.stringify(opts));
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], networks: { nope: {} } }))).code, 'NoSuchNetwork');
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], networks: { n1: { staticIPs: ['10.89.1.2'] } } }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], network: { container: 'nope' } }))).code, 'NoSuchCtr');
    assert.deepEqual(await must(e.runtime.containers()), []);
  });

  it('sets up before the create, tears down at stop with addresses released; restart allocates again', async () => {
    const c = await e.create({ name: 'web', networks: { n1: { aliases: ['www'] } }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(c.start());
    const info = await must(c.inspect());
    const ep = info.networkSettings.networks.n1!;
    assert.equal(ep.ipAddress, '10.89.220.2');
    assert.equal(ep.gateway, '10.89.220.1');
    assert.deepEqual(ep.aliases, ['www']);
    const port = info.networkSettings.ports['80/tcp']![0]!;
    assert.equal(port.hostIP, '127.0.0.1');
    assert.ok(port.hostPort > 0);
    assert.deepEqual(e.network.calls, [`setup ${c.id} n1`]);
    const hosts = await readFile(join(e.runRoot, 'containers', c.id, 'etc', 'hosts'), 'utf8');
    assert.match(hosts, /10\.89\.220\.2\t\S+ web/);
    assert.match(hosts, /10\.89\.220\.1\thost\.containers\.internal/);
    const resolv = await readFile(join(e.runRoot, 'containers', c.id, 'etc', 'resolv.conf'), 'utf8');
    assert.match(resolv, /^nameserver 10\.89\.220\.1$/m);
    await must(c.stop({ timeout: 0 }));
    assert.deepEqual(e.network.calls, [`setup ${c.id} n1`, `teardown ${c.id} n1`]);
    assert.equal((await must(c.inspect())).networkSettings.networks.n1!.ipAddress, '');
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});
    await must(c.start());
    // round robin: the next address, not the released one
    assert.equal((await must(c.inspect())).networkSettings.networks.n1!.ipAddress, '10.89.220.3');
  });

  it('releases addresses and the record when netavark fails, at setup and at teardown', async () => {
    const c = await e.create({ networks: { n1: {} } });
    e.network.failNext('setup');
    assert.equal((await mustFail(c.start())).code, 'Internal');
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});
    assert.equal((await must(c.inspect())).state, 'configured');
    await must(c.start());
    e.network.failNext('teardown');
    await must(c.stop({ timeout: 0 }));
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});
    assert.equal((await must(c.inspect())).networkSettings.networks.n1!.ipAddress, '');
  });

  it('an exit seen by sync tears networking down (the Node process may have been gone)', async () => {
    const c = await e.create({ networks: { n1: {} } });
    await must(c.start());
    e.fake.exit(c.id, 3);
    await must(c.sync());
    assert.equal((await must(c.inspect())).state, 'exited');
    assert.deepEqual(e.network.calls.map((x) => x.split(' ')[0]), ['setup', 'teardown']);
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n1')), {});
  });

  it('the default network when bridge names none; NetworkInUse; force removes the users', async () => {
    const c = await e.create({ network: 'bridge' });
    assert.deepEqual(Object.keys((await must(c.inspect())).networkSettings.networks), ['podman']);
    const d = await e.create({ networks: { n1: {} } });
    assert.equal((await mustFail(e.runtime.removeNetwork('n1'))).code, 'NetworkInUse');
    assert.deepEqual(await must(e.runtime.pruneNetworks()), []);
    assert.deepEqual((await must(e.runtime.networks({ inUse: true }))).map((n) => n.name), ['podman', 'n1']);
    await must(d.start());
    await must(e.runtime.removeNetwork('n1', { force: true }));
    assert.equal((await mustFail(e.runtime.lookupContainer(d.id))).code, 'NoSuchCtr');
    assert.deepEqual(e.network.calls.map((x) => x.split(' ')[0]), ['setup', 'teardown']);
    assert.ok(!existsSync(join(e.root, 'networks', 'n1.json')));
  });

  it('network: { container } joins a running container and depends on it', async () => {
    const a = await e.create({ name: 'a', networks: { n1: {} } });
    const b = await e.create({ name: 'b', network: { container: 'a' } });
    assert.deepEqual(b.dependencies(), [a.id]);
    assert.equal((await mustFail(b.start())).code, 'CtrStateInvalid');
    await must(a.start());
    await must(b.start());
    assert.deepEqual(e.network.calls.length, 1);
    assert.equal((await mustFail(e.runtime.removeContainer(a, { force: true }))).code, 'DepExists');
  });

  it('pods: the infra holds networks and ports; members publishing ports are InvalidArg', async () => {
    const pod = await must(e.runtime.newPod({ name: 'pp', networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] }));
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], pod: 'pp', ports: [{ containerPort: 81 }] }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newContainer({ rootfs: e.rootfs, command: ['x'], pod: 'pp', networks: { n1: {} } }))).code, 'InvalidArg');
    const m = await e.create({ pod: 'pp' });
    await must(pod.start());
    const infraSetup = e.network.calls.filter((x) => x.startsWith('setup'));
    assert.equal(infraSetup.length, 1);
    const infraId = infraSetup[0]!.split(' ')[1]!;
    const req = [...e.network.attached.values()][0]!.get('n1')!;
    assert.equal(req.container_id, infraId);
    assert.deepEqual(req.networks.n1!.aliases, ['pp']);
    assert.equal(req.port_mappings[0]!.container_port, 80);
    assert.deepEqual((await must(m.inspect())).networkSettings, { ports: {}, networks: {} });
    assert.ok((await readdir(join(e.runRoot, 'containers', infraId, 'etc'))).includes('hosts'));
  });

  it('connect and disconnect: live through the backend, or for the next start; events', async () => {
    await must(e.runtime.newNetwork({ name: 'n2', subnet: '10.89.221.0/24', ...SAFE }));
    const events: string[] = [];
    e.runtime.events.on('network', (ev) => events.push(`${ev.status} ${ev.name} ${ev.attributes.container === undefined ? '' : 'ctr'}`.trim()));
    const c = await e.create({ networks: { n1: {} } });
    await must(c.start());
    await must(c.connect('n2', { aliases: ['two'], staticIPs: ['10.89.221.9'] }));
    const info = await must(c.inspect());
    assert.equal(info.networkSettings.networks.n2!.ipAddress, '10.89.221.9');
    assert.deepEqual(info.networkSettings.networks.n2!.aliases, ['two']);
    assert.equal((await mustFail(c.connect('n2'))).code, 'InvalidArg');
    assert.equal((await mustFail(c.connect('nope'))).code, 'NoSuchNetwork');
    const hosts = await readFile(join(e.runRoot, 'containers', c.id, 'etc', 'hosts'), 'utf8');
    assert.match(hosts, /10\.89\.221\.9/);
    await must(c.disconnect('n2'));
    assert.equal((await must(c.inspect())).networkSettings.networks.n2, undefined);
    assert.deepEqual(await must(e.runtime.context.ipam.allocations('n2')), {});
    assert.equal((await mustFail(c.disconnect('n2'))).code, 'NoSuchNetwork');
    assert.deepEqual(e.network.calls.map((x) => x.split(' ').filter((_, i) => i !== 1).join(' ')), ['setup n1', 'setup n2', 'teardown n2']);
    await must(c.stop({ timeout: 0 }));
    await must(c.connect('n2'));
    assert.equal((await mustFail(e.runtime.removeNetwork('n2'))).code, 'NetworkInUse');
    await must(c.start());
    assert.ok((await must(c.inspect())).networkSettings.networks.n2!.ipAddress.startsWith('10.89.221.'));
    const none = await e.create({ network: 'none' });
    assert.equal((await mustFail(none.connect('n1'))).code, 'InvalidArg');
    assert.deepEqual(events, ['connect n2 ctr', 'disconnect n2 ctr', 'connect n2 ctr']);
  });
});
