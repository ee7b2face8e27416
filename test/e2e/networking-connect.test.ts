/**
 * `connect` / `disconnect` of running containers on real containers:
 * interface, address, DNS names and events come and go; the address goes
 * back to the IPAM. Root only; traffic only to this file's containers on
 * its bridges lpts233 (10.89.233.0/24) and lpts234 (10.89.234.0/24), both
 * with dnsServers ['127.0.0.1']; every loop is bounded; nothing may leak.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { must, mustFail } from '../support/engine.js';
import { byNameScript, getEventually, resolveScript, run, runUntil, useNetEngine } from './support/net-engine.js';

const root = process.getuid?.() === 0;

/** The interfaces enslaved to a bridge (the host ends of its containers' veths). */
function portsOf(bridge: string): number {
  return readdirSync(`/sys/class/net/${bridge}/brif`).length;
}

describe('connect and disconnect running containers', { skip: !root && 'needs root' }, () => {
  const e = useNetEngine('lpts-netcon-', [
    { name: 'r0', subnet: '10.89.233.0/24', bridge: 'lpts233' },
    { name: 'r1', subnet: '10.89.234.0/24', bridge: 'lpts234' },
  ]);

  it('connect wires an interface, an address and DNS names at once; disconnect removes them and releases the address', async () => {
    const events: string[] = [];
    e.rt.events.on('network', (ev) => events.push(`${ev.status} ${ev.name} ${String(ev.attributes.container ?? '')}`));
    const roamer = await e.httpd('roamer', { networks: { r0: {} } });
    const other = await e.shell('other', { networks: { r1: {} } });
    await must(roamer.start());
    await must(other.start());
    assert.equal((await run(other, resolveScript('roamer'))).out, '');
    assert.equal(portsOf('lpts234'), 1);

    await must(roamer.connect('r1', { aliases: ['rover'] }));
    const ip = (await must(roamer.inspect())).networkSettings.networks.r1?.ipAddress ?? '';
    assert.ok(ip.startsWith('10.89.234.'), ip);
    assert.deepEqual((await must(roamer.inspect())).networkSettings.networks.r1?.aliases, ['rover']);
    assert.match((await run(roamer, 'ip -4 addr show eth1')).out, new RegExp(`${ip.replaceAll('.', '\\.')}/24`));
    assert.equal(portsOf('lpts234'), 2);
    // Reachable on the new network: by address from the host, by name and alias from a container there.
    assert.equal(await getEventually(ip, 80), 'hello-roamer\n');
    assert.equal(await runUntil(other, byNameScript('roamer'), 'hello-roamer'), 'hello-roamer');
    assert.equal(await runUntil(other, byNameScript('rover'), 'hello-roamer'), 'hello-roamer');
    // Its /etc/hosts has the new address.
    assert.match((await run(roamer, 'cat /etc/hosts')).out, new RegExp(ip.replaceAll('.', '\\.')));
    // Errors change nothing.
    assert.equal((await mustFail(roamer.connect('r1'))).code, 'InvalidArg');
    assert.equal((await mustFail(roamer.connect('nowhere'))).code, 'NoSuchNetwork');
    assert.equal((await mustFail(roamer.disconnect('nowhere'))).code, 'NoSuchNetwork');
    assert.equal((await mustFail(other.disconnect('r0'))).code, 'NoSuchNetwork');
    assert.equal((await must(roamer.inspect())).networkSettings.networks.r1?.ipAddress, ip);

    await must(roamer.disconnect('r1'));
    assert.equal((await must(roamer.inspect())).networkSettings.networks.r1, undefined);
    assert.equal((await run(roamer, 'ls /sys/class/net')).out.split(/\s+/).sort().join(' '), 'eth0 lo');
    assert.equal(portsOf('lpts234'), 1);
    assert.equal(await runUntil(other, resolveScript('roamer'), ''), '');
    assert.doesNotMatch((await run(roamer, 'cat /etc/hosts')).out, new RegExp(ip.replaceAll('.', '\\.')));
    // Still served on the network it kept.
    const ip0 = (await must(roamer.inspect())).networkSettings.networks.r0?.ipAddress ?? '';
    assert.equal(await getEventually(ip0, 80), 'hello-roamer\n');
    assert.equal((await mustFail(roamer.disconnect('r1'))).code, 'NoSuchNetwork');
    // The address went back to the IPAM: another container can take it.
    const heir = await e.shell('heir', { networks: { r1: { staticIPs: [ip] } } });
    await must(heir.start());
    assert.equal((await must(heir.inspect())).networkSettings.networks.r1?.ipAddress, ip);

    assert.deepEqual(events, [`connect r1 ${roamer.id}`, `disconnect r1 ${roamer.id}`]);
    for (const c of [heir, other, roamer]) await must(c.stop({ timeout: 0 }));
  });

  it('connect of a stopped container takes effect at its next start; a container on none cannot connect', async () => {
    const later = await e.httpd('later', { networks: { r0: {} } });
    await must(later.connect('r1'));
    assert.equal((await must(later.inspect())).networkSettings.networks.r1?.ipAddress, '');
    await must(later.start());
    const ip = (await must(later.inspect())).networkSettings.networks.r1?.ipAddress ?? '';
    assert.ok(ip.startsWith('10.89.234.'), ip);
    assert.equal(await getEventually(ip, 80), 'hello-later\n');
    assert.equal((await mustFail(e.rt.removeNetwork('r1'))).code, 'NetworkInUse');
    await must(later.stop({ timeout: 0 }));
    await must(later.disconnect('r1'));
    await must(later.start());
    assert.deepEqual(Object.keys((await must(later.inspect())).networkSettings.networks), ['r0']);
    assert.equal((await run(later, 'ls /sys/class/net')).out.split(/\s+/).sort().join(' '), 'eth0 lo');
    await must(later.stop({ timeout: 0 }));
    const lone = await e.shell('lone', { network: 'none' });
    assert.equal((await mustFail(lone.connect('r0'))).code, 'InvalidArg');
  });
});
