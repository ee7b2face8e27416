import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LibpodEvent } from '../../src/index.js';
import { parseRoutes } from '../../src/network/host-routes.js';
import { buildNetworkConfig, freeSubnet } from '../../src/network/network-create.js';
import { defaultNetwork } from '../../src/network/network-config.js';
import { parseCidr } from '../../src/network/ipv4.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

const SAFE = { dnsServers: ['127.0.0.1'] };

describe('networks: config files, lookup, removal', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => e.dispose());

  it('creates a network as podman writes it, with a free /24 of 10.89.0.0/16 and the next podmanN bridge', async () => {
    const events: LibpodEvent[] = [];
    e.runtime.events.on('network', (ev) => events.push(ev));
    const net = await must(e.runtime.newNetwork({ name: 'n1', labels: { a: 'b' }, ...SAFE }));
    assert.match(net.id, /^[0-9a-f]{64}$/);
    const file = JSON.parse(await readFile(join(e.root, 'networks', 'n1.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(file.name, 'n1');
    assert.equal(file.driver, 'bridge');
    assert.equal(file.dns_enabled, true);
    assert.deepEqual(file.network_dns_servers, ['127.0.0.1']);
    assert.deepEqual(file.ipam_options, { driver: 'host-local' });
    const info = await must(net.inspect());
    assert.equal(info.subnets.length, 1);
    const c = parseCidr(info.subnets[0]!.subnet)!;
    assert.equal(c.prefix, 24);
    assert.ok(info.subnets[0]!.subnet.startsWith('10.89.'));
    assert.match(info.networkInterface, /^podman[1-9]\d*$/);
    assert.equal(info.subnets[0]!.gateway, info.subnets[0]!.subnet.replace(/0\/24$/, '1'));
    const second = await must(e.runtime.newNetwork({ name: 'n2', ...SAFE }));
    const info2 = await must(second.inspect());
    assert.notEqual(info2.subnets[0]!.subnet, info.subnets[0]!.subnet);
    assert.notEqual(info2.networkInterface, info.networkInterface);
    assert.deepEqual(events.map((ev) => `${ev.status} ${ev.name}`), ['create n1', 'create n2']);
  });

  it('refuses taken names, bad options and overlapping subnets, changing nothing', async () => {
    await must(e.runtime.newNetwork({ name: 'n1', subnet: '10.89.200.0/24', interfaceName: 'h6unit0', ...SAFE }));
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'n1', ...SAFE }))).code, 'NetworkExists');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'podman' }))).code, 'NetworkExists');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', subnet: '10.89.200.128/25' }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', interfaceName: 'h6unit0' }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', subnet: 'nope' }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', subnet: '10.89.201.0/24', gateway: '10.89.202.1' }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: '../x' }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', bogus: 1 } as never))).code, 'InvalidArg');
    assert.equal((await mustFail(e.runtime.newNetwork({ name: 'x', dnsServers: ['nope'] }))).code, 'InvalidArg');
    assert.deepEqual((await readdir(join(e.root, 'networks'))).sort(), ['n1.json']);
  });

  it('has the default network without a file; it cannot be removed', async () => {
    const def = await must(e.runtime.lookupNetwork('podman'));
    const info = await must(def.inspect());
    assert.deepEqual(info.subnets, [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]);
    assert.equal(info.networkInterface, 'podman0');
    assert.equal(info.dnsEnabled, false);
    assert.equal((await mustFail(e.runtime.removeNetwork(def))).code, 'InvalidArg');
    assert.deepEqual((await must(e.runtime.networks())).map((n) => n.name), ['podman']);
  });

  it('looks networks up by name, id and id prefix; filters; removes and prunes with events', async () => {
    const a = await must(e.runtime.newNetwork({ name: 'a', labels: { team: 'x' }, ...SAFE }));
    await must(e.runtime.newNetwork({ name: 'b', ...SAFE }));
    assert.equal((await must(e.runtime.lookupNetwork(a.id))).name, 'a');
    assert.equal((await must(e.runtime.lookupNetwork(a.id.slice(0, 10)))).name, 'a');
    assert.equal((await mustFail(e.runtime.lookupNetwork('nope'))).code, 'NoSuchNetwork');
    assert.deepEqual((await must(e.runtime.networks({ labels: { team: 'x' } }))).map((n) => n.name), ['a']);
    assert.deepEqual((await must(e.runtime.networks({ name: ['a', 'b'] }))).map((n) => n.name), ['a', 'b']);
    assert.equal((await mustFail(e.runtime.networks({ bogus: 1 } as never))).code, 'InvalidArg');
    const events: LibpodEvent[] = [];
    e.runtime.events.on('network', (ev) => events.push(ev));
    await must(e.runtime.removeNetwork(a));
    assert.equal((await mustFail(a.inspect())).code, 'NoSuchNetwork');
    assert.equal((await mustFail(e.runtime.removeNetwork(a))).code, 'NoSuchNetwork');
    assert.deepEqual(await must(e.runtime.pruneNetworks()), ['b']);
    assert.deepEqual(events.map((ev) => `${ev.status} ${ev.name}`), ['remove a', 'prune b']);
    const logged = await must(e.runtime.readEvents({ filter: { type: 'network' } }));
    assert.deepEqual(logged.map((ev) => ev.status), ['create', 'create', 'remove', 'prune']);
  });

  it('skips unreadable config files', async () => {
    await must(e.runtime.newNetwork({ name: 'ok', ...SAFE }));
    await writeFile(join(e.root, 'networks', 'broken.json'), '{not json');
    await writeFile(join(e.root, 'networks', 'liar.json'), JSON.stringify({ ...defaultNetwork(), name: 'other', id: 'a'.repeat(64) }));
    assert.deepEqual((await must(e.runtime.networks())).map((n) => n.name), ['podman', 'ok']);
  });
});

describe('network subnets (pure)', () => {
  it('picks the first /24 of 10.89.0.0/16 overlapping no network and no host route', () => {
    const routes = [parseCidr('10.89.0.0/24')!, parseCidr('10.89.2.0/23')!];
    const net = buildNetworkConfig({ name: 'x' }, { networks: [defaultNetwork(), { ...defaultNetwork(), name: 'y', subnets: [{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }], network_interface: 'podman1' }], routes, interfaces: new Set(['podman2']) });
    assert.ok(net.isOk());
    assert.equal(net.value.subnets[0]!.subnet, '10.89.4.0/24');
    assert.equal(net.value.network_interface, 'podman3');
    assert.equal(freeSubnet({ networks: [], routes: [parseCidr('10.89.0.0/16')!], interfaces: new Set() }), undefined);
  });

  it('parses /proc/net/route (little-endian hex)', () => {
    const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
      'podman1\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
    assert.deepEqual(parseRoutes(text), [parseCidr('192.168.0.0/24'), parseCidr('10.89.0.0/16')]);
  });
});
