import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LockManager } from '../../src/locks/lock-manager.js';
import { Ipam } from '../../src/network/ipam.js';
import { defaultNetwork, type NetworkConfig } from '../../src/network/network-config.js';
import { must, mustFail } from '../support/engine.js';

function net(subnet: string, gateway: string): NetworkConfig {
  return { ...defaultNetwork(), name: 'n', subnets: [{ subnet, gateway }] };
}

describe('IPAM', () => {
  let dir: string;
  let ipam: Ipam;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libpod-ts-ipam-'));
    ipam = new Ipam(dir, new LockManager());
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('hands out addresses round robin from the last one, skipping the gateway, and wraps', async () => {
    const n = net('10.89.200.0/29', '10.89.200.1');
    assert.deepEqual(await must(ipam.allocate('a', n, [])), ['10.89.200.2']);
    assert.deepEqual(await must(ipam.allocate('b', n, [])), ['10.89.200.3']);
    await must(ipam.release('a', 'n'));
    // round robin: not the released .2 again, but the next after the last one
    assert.deepEqual(await must(ipam.allocate('c', n, [])), ['10.89.200.4']);
    assert.deepEqual(await must(ipam.allocate('d', n, [])), ['10.89.200.5']);
    assert.deepEqual(await must(ipam.allocate('e', n, [])), ['10.89.200.6']);
    // .7 is the broadcast address: wrap to the released .2
    assert.deepEqual(await must(ipam.allocate('f', n, [])), ['10.89.200.2']);
    assert.equal((await mustFail(ipam.allocate('g', n, []))).code, 'Internal');
  });

  it('checks static addresses: inside the subnet, not the gateway, free', async () => {
    const n = net('10.89.201.0/24', '10.89.201.1');
    assert.deepEqual(await must(ipam.allocate('a', n, ['10.89.201.50'])), ['10.89.201.50']);
    assert.equal((await mustFail(ipam.allocate('b', n, ['10.89.201.50']))).code, 'InvalidArg');
    assert.equal((await mustFail(ipam.allocate('b', n, ['10.89.202.5']))).code, 'InvalidArg');
    assert.equal((await mustFail(ipam.allocate('b', n, ['10.89.201.1']))).code, 'InvalidArg');
    assert.equal((await mustFail(ipam.allocate('b', n, ['10.89.201.255']))).code, 'InvalidArg');
    assert.equal((await mustFail(ipam.allocate('b', n, ['nope']))).code, 'InvalidArg');
    assert.deepEqual(await must(ipam.allocations('n')), { '10.89.201.50': 'a' });
  });

  it('gives concurrent allocations distinct addresses', async () => {
    const n = net('10.89.203.0/24', '10.89.203.1');
    const ips = await Promise.all(Array.from({ length: 40 }, (_, i) => must(ipam.allocate(`c${i}`, n, []))));
    assert.equal(new Set(ips.flat()).size, 40);
    // a second Ipam on the same directory (another runtime after a restart) sees them
    const again = new Ipam(dir, new LockManager());
    assert.equal(Object.keys(await must(again.allocations('n'))).length, 40);
  });

  it('releases what containers that no longer exist hold', async () => {
    const n = net('10.89.204.0/24', '10.89.204.1');
    await must(ipam.allocate('live', n, []));
    await must(ipam.allocate('gone', n, []));
    await must(ipam.releaseAllBut(new Set(['live'])));
    assert.deepEqual(Object.values(await must(ipam.allocations('n'))), ['live']);
  });
});
