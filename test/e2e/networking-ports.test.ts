/**
 * Published ports on real containers: host-port reservation as rootful
 * podman 4 (conmon holds a listening TCP socket and a bound UDP socket per
 * published port while the container runs; released when it exits) and
 * free-port picking. Root only; traffic only to 127.0.0.1; network
 * 10.89.230.0/24 on bridge lpts230 (dnsServers ['127.0.0.1']).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { Container } from '../../src/index.js';
import { must } from '../support/engine.js';
import { getEventually, run, tryBindUdp as udpBind, tryListen as tcpListen, useNetEngine } from './support/net-engine.js';

const root = process.getuid?.() === 0;

/** The host port published for `key` (e.g. '80/tcp'). */
async function hostPort(c: Container, key: string): Promise<number> {
  const p = (await must(c.inspect())).networkSettings.ports[key]?.[0]?.hostPort ?? 0;
  assert.ok(p > 0, `a host port for ${key}`);
  return p;
}

describe('published ports: reservation and free-port picking', { skip: !root && 'needs root' }, () => {
  const e = useNetEngine('lpts-netp-', [{ name: 'p0', subnet: '10.89.230.0/24', bridge: 'lpts230' }]);

  it('keeps published host ports bound while the container runs (TCP and UDP), and frees them when it stops', async () => {
    const web = await e.httpd('held', {
      networks: { p0: {} },
      ports: [
        { hostIP: '127.0.0.1', containerPort: 80 },
        { containerPort: 81 },
        { hostIP: '127.0.0.1', containerPort: 53, protocol: 'udp' },
      ],
    });
    await must(web.start());
    const local = await hostPort(web, '80/tcp');
    const any = await hostPort(web, '81/tcp');
    const udp = await hostPort(web, '53/udp');
    e.ports.push(local, any, udp);
    assert.equal(await getEventually('127.0.0.1', local), 'hello-held\n');
    // Nothing else may take them: a listener on the same address, or on the wildcard.
    assert.equal(await tcpListen('127.0.0.1', local), 'EADDRINUSE');
    assert.equal(await tcpListen('0.0.0.0', local), 'EADDRINUSE');
    assert.equal(await tcpListen('0.0.0.0', any), 'EADDRINUSE');
    assert.equal(await tcpListen('127.0.0.1', any), 'EADDRINUSE');
    assert.equal(await udpBind('127.0.0.1', udp), 'EADDRINUSE');
    // The forwarding still wins over the reserving socket.
    assert.equal(await getEventually('127.0.0.1', local), 'hello-held\n');
    await must(web.stop({ timeout: 0 }));
    assert.equal(await tcpListen('127.0.0.1', local), '');
    assert.equal(await tcpListen('0.0.0.0', any), '');
    assert.equal(await udpBind('127.0.0.1', udp), '');
  });

  it('the container does not inherit the reserving sockets (conmon keeps them to itself)', async () => {
    const quiet = await e.shell('quiet', { networks: { p0: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }, { hostIP: '127.0.0.1', containerPort: 53, protocol: 'udp' }] });
    await must(quiet.start());
    const port = await hostPort(quiet, '80/tcp');
    e.ports.push(port, await hostPort(quiet, '53/udp'));
    assert.equal(await tcpListen('127.0.0.1', port), 'EADDRINUSE');
    const fds = (await run(quiet, 'ls -l /proc/1/fd')).out;
    assert.match(fds, / -> /);
    assert.doesNotMatch(fds, /socket:/);
    await must(quiet.stop({ timeout: 0 }));
  });

  it('picks free host ports (hostPort omitted or 0), distinct, never one a listener holds', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0 }, r));
    const held = (holder.address() as { port: number }).port;
    try {
      const a = await e.httpd('pick-a', { networks: { p0: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] });
      const b = await e.httpd('pick-b', { networks: { p0: {} }, ports: [{ hostIP: '127.0.0.1', hostPort: 0, containerPort: 80 }] });
      await must(a.start());
      await must(b.start());
      const pa = await hostPort(a, '80/tcp');
      const pb = await hostPort(b, '80/tcp');
      e.ports.push(pa, pb);
      assert.notEqual(pa, pb);
      assert.ok(pa !== held && pb !== held);
      assert.equal(await getEventually('127.0.0.1', pa), 'hello-pick-a\n');
      assert.equal(await getEventually('127.0.0.1', pb), 'hello-pick-b\n');
      assert.equal(await tcpListen('127.0.0.1', pa), 'EADDRINUSE');
      await must(a.stop({ timeout: 0 }));
      await must(b.stop({ timeout: 0 }));
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
