/**
 * Pods with networks and `network: { container }` on real containers.
 * Root only; traffic only to 127.0.0.1 and to this file's containers on its
 * bridges lpts231 (10.89.231.0/24) and lpts232 (10.89.232.0/24), both with
 * dnsServers ['127.0.0.1']; every loop is bounded; nothing may leak.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container } from '../../src/index.js';
import { must, mustFail } from '../support/engine.js';
import { byNameScript, fetchScript, get, getEventually, resolveScript, run, runUntil, tryListen, useNetEngine } from './support/net-engine.js';

const root = process.getuid?.() === 0;

/** The names of the interfaces the container sees. */
async function interfaces(c: Container): Promise<string> {
  return (await run(c, 'ls /sys/class/net')).out.split(/\s+/).sort().join(' ');
}

describe('pods and container network mode on real containers', { skip: !root && 'needs root' }, () => {
  const e = useNetEngine('lpts-netpod-', [
    { name: 'q0', subnet: '10.89.231.0/24', bridge: 'lpts231' },
    { name: 'q1', subnet: '10.89.232.0/24', bridge: 'lpts232' },
  ]);

  it("a pod's infra holds its networks and ports: a member serves on the pod's port, the pod's name resolves", async () => {
    const pod = e.trackPod(await must(e.rt.newPod({ name: 'webpod', networks: { q0: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] })));
    assert.equal((await mustFail(e.rt.newContainer({ rootfs: e.rootfs, command: ['true'], pod: 'webpod', ports: [{ containerPort: 81 }] }))).code, 'InvalidArg');
    assert.equal((await mustFail(e.rt.newContainer({ rootfs: e.rootfs, command: ['true'], pod: 'webpod', networks: { q0: {} } }))).code, 'InvalidArg');
    const member = await e.httpd('member', { pod: 'webpod' });
    await must(pod.start());
    const infraId = pod.infraContainerId;
    assert.ok(infraId);
    const infra = await must(e.rt.lookupContainer(infraId));
    const settings = (await must(infra.inspect())).networkSettings;
    const port = settings.ports['80/tcp']?.[0]?.hostPort ?? 0;
    const ip = settings.networks.q0?.ipAddress ?? '';
    assert.ok(port > 0 && ip.startsWith('10.89.231.'));
    e.ports.push(port);
    // The member's httpd, in the infra's namespace, answers on the pod's published port and address.
    assert.equal(await getEventually('127.0.0.1', port), 'hello-member\n');
    assert.equal(await getEventually(ip, 80), 'hello-member\n');
    assert.equal(await tryListen('127.0.0.1', port), 'EADDRINUSE');
    assert.equal((await run(member, 'ip -4 addr show eth0')).out.includes(`${ip}/24`), true);
    assert.deepEqual((await must(member.inspect())).networkSettings, { ports: {}, networks: {} });
    // The pod's name resolves on its network, from a container outside the pod.
    const peer = await e.shell('podpeer', { networks: { q0: {} } });
    await must(peer.start());
    assert.equal((await run(peer, resolveScript('webpod'))).out, ip);
    assert.deepEqual(await run(peer, byNameScript('webpod')), { code: 0, out: 'hello-member' });
    // Not from another network.
    const stranger = await e.shell('podstranger', { networks: { q1: {} } });
    await must(stranger.start());
    assert.equal((await run(stranger, resolveScript('webpod'))).out, '');
    await must(peer.stop({ timeout: 0 }));
    await must(stranger.stop({ timeout: 0 }));
    // Stopping the pod tears the infra's networking down and frees the port.
    await must(pod.stop({ timeout: 0 }));
    assert.equal(await get('127.0.0.1', port), undefined);
    assert.equal(await tryListen('127.0.0.1', port), '');
    assert.equal((await must(infra.inspect())).networkSettings.networks.q0?.ipAddress, '');
  });

  it('network: { container } joins the target namespace; the target cannot be removed while used; stopping it leaves the joiner on loopback', async () => {
    const target = await e.httpd('target', { networks: { q1: {} } });
    const joiner = await e.shell('joiner', { network: { container: 'target' } });
    assert.deepEqual(joiner.dependencies(), [target.id]);
    assert.equal((await mustFail(joiner.start())).code, 'CtrStateInvalid');
    await must(target.start());
    await must(joiner.start());
    const ip = (await must(target.inspect())).networkSettings.networks.q1?.ipAddress ?? '';
    assert.ok(ip.startsWith('10.89.232.'));
    // One namespace: the joiner reaches the target's httpd on its own loopback and sees its address.
    assert.equal(await runUntil(joiner, fetchScript('127.0.0.1'), 'hello-target'), 'hello-target');
    assert.match((await run(joiner, 'ip -4 addr show eth0')).out, new RegExp(`${ip.replaceAll('.', '\\.')}/24`));
    // It uses the target's /etc files: names on the target's network resolve.
    const neighbour = await e.httpd('neighbour', { networks: { q1: {} } });
    await must(neighbour.start());
    assert.equal(await runUntil(joiner, byNameScript('neighbour'), 'hello-neighbour'), 'hello-neighbour');
    // The target cannot be removed while the joiner exists, force or not.
    assert.equal((await mustFail(e.rt.removeContainer(target))).code, 'DepExists');
    assert.equal((await mustFail(e.rt.removeContainer(target, { force: true, timeout: 0 }))).code, 'DepExists');
    assert.equal(await must(target.state()), 'running');
    // As libpod: stopping the target is allowed; its networking is torn down, the joiner keeps
    // running in the namespace with loopback only.
    await must(target.stop({ timeout: 0 }));
    assert.equal(await must(joiner.state()), 'running');
    assert.equal(await interfaces(joiner), 'lo');
    await must(joiner.stop({ timeout: 0 }));
    await must(neighbour.stop({ timeout: 0 }));
    await must(e.rt.removeContainer(joiner));
    await must(e.rt.removeContainer(target));
  });
});
