/**
 * Port reservation (the conmon runtime's `bindPorts`): sockets bound on
 * 127.0.0.1 whose descriptors go to conmon; the engine asks for the
 * published ports of the container whose namespace holds them. No root.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultAsync } from 'neverthrow';
import { FakeNetworkBackend, FakeOciRuntime, LibpodError, MemoryStateStore, Runtime, type OciCreateRequest, type OciCreateResult } from '../../src/index.js';
import { must } from '../support/engine.js';
import { reservePorts } from '../../src/oci/conmon/port-reservation.js';
import { tryBindUdp, tryListen } from '../e2e/support/net-engine.js';

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('port reservation', () => {
  it('holds TCP (listening) and UDP ports until closed; hands out their descriptors', async () => {
    const port = await freePort();
    const r = await reservePorts([
      { hostIP: '127.0.0.1', hostPort: port, protocol: 'tcp' },
      { hostIP: '127.0.0.1', hostPort: port, protocol: 'udp' },
    ]);
    try {
      assert.equal(r.fds.length, 2);
      assert.ok(r.fds.every((fd) => Number.isInteger(fd) && fd > 2));
      assert.notEqual(r.fds[0], r.fds[1]);
      assert.equal(await tryListen('127.0.0.1', port), 'EADDRINUSE');
      assert.equal(await tryListen('0.0.0.0', port), 'EADDRINUSE');
      assert.equal(await tryBindUdp('127.0.0.1', port), 'EADDRINUSE');
    } finally {
      await r.close();
    }
    assert.equal(await tryListen('127.0.0.1', port), '');
    assert.equal(await tryBindUdp('127.0.0.1', port), '');
  });

  it('a port taken elsewhere is InvalidArg, and what it had bound is released', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen({ host: '127.0.0.1', port: 0 }, r));
    const busy = (taken.address() as { port: number }).port;
    const first = await freePort();
    try {
      const err: unknown = await reservePorts([
        { hostIP: '127.0.0.1', hostPort: first, protocol: 'tcp' },
        { hostIP: '', hostPort: busy, protocol: 'tcp' },
      ]).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof LibpodError);
      assert.equal(err.code, 'InvalidArg');
      assert.equal(await tryListen('127.0.0.1', first), '');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

/** A fake runtime that keeps every create request. */
class RecordingRuntime extends FakeOciRuntime {
  readonly requests: OciCreateRequest[] = [];
  override create(req: OciCreateRequest): ResultAsync<OciCreateResult, LibpodError> {
    this.requests.push(req);
    return super.create(req);
  }
}

describe('the engine asks the runtime to reserve published ports', () => {
  it('a bridge container and a pod infra reserve their resolved ports; a pod member and a container without ports nothing', async () => {
    const base = await mkdtemp(join(tmpdir(), 'libpod-ts-reserve-'));
    const rootfs = join(base, 'rootfs');
    await mkdir(rootfs);
    const oci = new RecordingRuntime();
    const rt = await must(Runtime.open({ root: join(base, 'root'), runRoot: join(base, 'run'), store: new MemoryStateStore(), ociRuntime: oci, networkBackend: new FakeNetworkBackend() }));
    try {
      await must(rt.newNetwork({ name: 'n1', subnet: '10.89.237.0/24', dnsServers: ['127.0.0.1'] }));
      const web = await must(rt.newContainer({ rootfs, command: ['x'], networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }, { containerPort: 53, protocol: 'udp' }] }));
      await must(web.start());
      const published = (await must(web.inspect())).networkSettings.ports;
      const asked = oci.requests.find((r) => r.id === web.id)?.reservePorts;
      assert.deepEqual(asked?.map((p) => ({ hostIP: p.hostIP, hostPort: p.hostPort, protocol: p.protocol })), [
        { hostIP: '127.0.0.1', hostPort: published['80/tcp']?.[0]?.hostPort, protocol: 'tcp' },
        { hostIP: '', hostPort: published['53/udp']?.[0]?.hostPort, protocol: 'udp' },
      ]);
      const plain = await must(rt.newContainer({ rootfs, command: ['x'], networks: { n1: {} } }));
      await must(plain.start());
      assert.equal(oci.requests.find((r) => r.id === plain.id)?.reservePorts, undefined);

      const pod = await must(rt.newPod({ name: 'pp', networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 8080 }] }));
      const member = await must(rt.newContainer({ rootfs, command: ['x'], pod: 'pp' }));
      await must(pod.start());
      assert.equal(oci.requests.find((r) => r.id === pod.infraContainerId)?.reservePorts?.length, 1);
      assert.equal(oci.requests.find((r) => r.id === member.id)?.reservePorts, undefined);
      await must(rt.removePod(pod, { force: true, timeout: 0 }));
    } finally {
      await rt.close();
      await rm(base, { recursive: true, force: true });
    }
  });
});
