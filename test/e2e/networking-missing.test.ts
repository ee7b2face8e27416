/**
 * Real containers on a runtime whose netavark cannot be found (its path
 * points nowhere, as on a host without the package): bridge networking is
 * `OCIRuntimeNotFound` naming the Debian packages and leaves nothing set
 * up; `none` and `host` containers run. Root only; no traffic.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NETWORK_PACKAGES, NetavarkNetworkBackend } from '../../src/index.js';
import { must, mustFail } from '../support/engine.js';
import { run, useNetEngine } from './support/net-engine.js';

const root = process.getuid?.() === 0;

describe('bridge networking without netavark, on real containers', { skip: !root && 'needs root' }, () => {
  const e = useNetEngine('lpts-netmiss-', [], { networkBackend: new NetavarkNetworkBackend({ netavark: '/nonexistent/netavark' }) });

  it('a bridge start fails naming the packages, nothing set up; none and host run', async () => {
    await must(e.rt.newNetwork({ name: 'm0', subnet: '10.89.236.0/24', interfaceName: 'lpts236', dnsServers: ['127.0.0.1'] }));
    const bridged = await e.shell('bridged', { networks: { m0: {} } });
    const err = await mustFail(bridged.start());
    assert.equal(err.code, 'OCIRuntimeNotFound');
    assert.ok(err.message.includes(NETWORK_PACKAGES));
    assert.equal(await must(bridged.state()), 'configured');
    assert.ok(!readdirSync('/sys/class/net').includes('lpts236'));

    const lone = await e.shell('lone', { network: 'none' });
    await must(lone.start());
    assert.equal((await run(lone, 'ls /sys/class/net')).out, 'lo');
    const hosted = await e.shell('hosted', { network: 'host' });
    await must(hosted.start());
    const inside = (await run(hosted, 'ls /sys/class/net')).out.split(/\s+/).sort();
    // The host's own interfaces (not the veths and bridges other tests come and go with).
    const stable = readdirSync('/sys/class/net').filter((i) => i === 'lo' || i.startsWith('eth'));
    assert.ok(stable.length > 1 && stable.every((i) => inside.includes(i)), `${inside.join(' ')} vs ${stable.join(' ')}`);
    await must(lone.stop({ timeout: 0 }));
    await must(hosted.stop({ timeout: 0 }));
    await must(e.rt.removeContainer(bridged));
    await must(e.rt.removeNetwork('m0'));
  });
});
