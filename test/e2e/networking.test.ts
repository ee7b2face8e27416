/**
 * Bridge networking on real containers (conmon + runc + netavark +
 * aardvark-dns). Root only. Traffic goes only to 127.0.0.1 and to the
 * addresses of this file's containers on its own bridges (10.89.210-219.0/24);
 * every network sets dnsServers ['127.0.0.1']; every request loop is bounded.
 * The file ends by asserting that no process, mount, namespace, bridge,
 * firewall rule or aardvark-dns process it made is left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { must, mustFail } from '../support/engine.js';
import { byNameScript as byName, get, getEventually, resolveScript as resolve, run, useNetEngine } from './support/net-engine.js';

const root = process.getuid?.() === 0;

describe('bridge networking on real containers', { skip: !root && 'needs root' }, () => {
  const e = useNetEngine('lpts-net-', [
    { name: 'n0', subnet: '10.89.210.0/24', bridge: 'lpts210' },
    { name: 'n1', subnet: '10.89.211.0/24', bridge: 'lpts211' },
    { name: 'n2', subnet: '10.89.212.0/24', bridge: 'lpts212' },
  ]);
  const httpd = e.httpd;
  const shell = e.shell;

  it('serves HTTP on a published port of 127.0.0.1 and on its address; name and alias resolve on its network only', async () => {
    const web = await httpd('web', { networks: { n0: { aliases: ['www'] } }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(web.start());
    const info = await must(web.inspect());
    const port = info.networkSettings.ports['80/tcp']?.[0];
    assert.ok(port && port.hostPort > 0 && port.hostIP === '127.0.0.1');
    const ep = info.networkSettings.networks.n0;
    assert.ok(ep && ep.ipAddress.startsWith('10.89.210.') && ep.prefixLen === 24 && ep.gateway === '10.89.210.1');
    assert.match(ep.macAddress, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(await getEventually('127.0.0.1', port.hostPort), 'hello-web\n');
    assert.equal(await getEventually(ep.ipAddress, 80), 'hello-web\n');

    const peer = await shell('peer', { networks: { n0: {} } });
    const stranger = await shell('stranger', { networks: { n1: {} } });
    await must(peer.start());
    await must(stranger.start());
    assert.deepEqual(await run(peer, byName('web')), { code: 0, out: 'hello-web' });
    assert.deepEqual(await run(peer, byName('www')), { code: 0, out: 'hello-web' });
    assert.equal((await run(stranger, resolve('web'))).out, '');
    assert.notEqual((await run(stranger, byName('web'))).code, 0);
    const hosts = await run(peer, 'cat /etc/hosts; cat /etc/hostname');
    assert.match(hosts.out, /host\.containers\.internal/);
    assert.match(hosts.out, /10\.89\.210\.\d+\s+\S+ peer/);
    const resolv = await run(peer, 'cat /etc/resolv.conf');
    assert.match(resolv.out, /nameserver 10\.89\.210\.1/);
    assert.match(resolv.out, /search dns\.podman/);
  });

  it('none is isolated: loopback only', async () => {
    const lone = await shell('lone', { network: 'none' });
    await must(lone.start());
    const r = await run(lone, 'ls /sys/class/net');
    assert.equal(r.out.split(/\s+/).sort().join(' '), 'lo');
    assert.deepEqual((await must(lone.inspect())).networkSettings, { ports: {}, networks: {} });
  });

  it('static addresses; a taken one fails the start and leaves nothing set up', async () => {
    const a = await shell('fixed', { networks: { n2: { staticIPs: ['10.89.212.50'] } } });
    await must(a.start());
    assert.equal((await must(a.inspect())).networkSettings.networks.n2?.ipAddress, '10.89.212.50');
    assert.match((await run(a, 'ip -4 addr show eth0')).out, /10\.89\.212\.50\/24/);
    const b = await shell('fixed2', { networks: { n2: { staticIPs: ['10.89.212.50'] } } });
    assert.equal((await mustFail(b.start())).code, 'InvalidArg');
    const st = await must(b.inspect());
    assert.equal(st.state, 'configured');
    assert.equal(st.networkSettings.networks.n2?.ipAddress, '');
    assert.equal((await mustFail(e.rt.newContainer({ rootfs: e.rootfs, command: ['true'], networks: { n2: { staticIPs: ['10.89.1.5'] } } }))).code, 'InvalidArg');
  });

  it('port conflicts: a port another container publishes, or a listener holds, is InvalidArg', async () => {
    const first = await httpd('p1', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', hostPort: 18631, containerPort: 80 }] });
    e.ports.push(18631);
    await must(first.start());
    const second = await httpd('p2', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', hostPort: 18631, containerPort: 80 }] });
    assert.equal((await mustFail(second.start())).code, 'InvalidArg');
    assert.equal(await getEventually('127.0.0.1', 18631), 'hello-p1\n');
    await must(first.stop({ timeout: 0 }));
    await must(second.start());
    assert.equal(await getEventually('127.0.0.1', 18631), 'hello-p2\n');
    await must(second.stop({ timeout: 0 }));
    assert.equal((await mustFail(e.rt.newContainer({ rootfs: e.rootfs, command: ['true'], ports: [{ hostPort: 1, containerPort: 80 }, { hostPort: 1, containerPort: 81 }] }))).code, 'InvalidArg');
  });

  it('a stop tears down the namespace and releases the address; a restart sets it up again', async () => {
    const c = await httpd('again', { networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
    await must(c.start());
    const first = await must(c.inspect());
    await must(c.restart({ timeout: 0 }));
    const second = await must(c.inspect());
    const port = second.networkSettings.ports['80/tcp']?.[0]?.hostPort ?? 0;
    assert.equal(await getEventually('127.0.0.1', port), 'hello-again\n');
    assert.notEqual(second.networkSettings.networks.n1?.ipAddress, '');
    assert.ok(first.networkSettings.networks.n1?.ipAddress);
    await must(c.stop({ timeout: 0 }));
    const stopped = await must(c.inspect());
    assert.equal(stopped.networkSettings.networks.n1?.ipAddress, '');
    assert.equal(await get('127.0.0.1', port), undefined);
  });
});
