/**
 * Without netavark, aardvark-dns or iptables (simulated by pointing the
 * netavark backend at paths that do not exist): bridge networking is
 * `OCIRuntimeNotFound` naming the Debian packages and sets nothing up;
 * networks' config files and the `none` / `host` modes still work.
 * Fake OCI runtime: no root needed (the check comes before any namespace).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeOciRuntime, MemoryStateStore, NETWORK_PACKAGES, NetavarkNetworkBackend, Runtime, type NetavarkOptions } from '../../src/index.js';
import { must, mustFail } from '../support/engine.js';

describe('bridge networking without its host tools', () => {
  let base: string;
  let rootfs: string;
  let rt: Runtime | undefined;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'libpod-ts-nonet-'));
    rootfs = join(base, 'rootfs');
    await mkdir(rootfs);
  });
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
    await rm(base, { recursive: true, force: true });
  });

  async function open(opts: NetavarkOptions): Promise<Runtime> {
    rt = await must(
      Runtime.open({ root: join(base, 'root'), runRoot: join(base, 'run'), store: new MemoryStateStore(), ociRuntime: new FakeOciRuntime(), networkBackend: new NetavarkNetworkBackend(opts) }),
    );
    return rt;
  }

  for (const [what, opts] of [
    ['netavark', { netavark: '/nonexistent/netavark' }],
    ['aardvark-dns', { aardvark: '/nonexistent/aardvark-dns' }],
    ['iptables', { iptables: '/nonexistent/iptables' }],
  ] as const) {
    it(`without ${what}: a bridge start is OCIRuntimeNotFound naming the packages and sets nothing up; none and host work`, async () => {
      const r = await open(opts);
      await must(r.newNetwork({ name: 'n1', subnet: '10.89.235.0/24', dnsServers: ['127.0.0.1'] }));
      const bridge = await must(r.newContainer({ rootfs, command: ['x'], networks: { n1: {} }, ports: [{ hostIP: '127.0.0.1', containerPort: 80 }] }));
      const e = await mustFail(bridge.start());
      assert.equal(e.code, 'OCIRuntimeNotFound');
      assert.ok(e.message.includes(NETWORK_PACKAGES), 'names the Debian packages to install');
      const info = await must(bridge.inspect());
      assert.equal(info.state, 'configured');
      assert.equal(info.networkSettings.networks.n1?.ipAddress, '');
      assert.deepEqual(await must(r.context.ipam.allocations('n1')), {});
      const netnsDir = join(base, 'run', 'netns');
      assert.deepEqual(existsSync(netnsDir) ? await readdir(netnsDir) : [], []);
      // The default network is bridge networking too.
      const dflt = await must(r.newContainer({ rootfs, command: ['x'], network: 'bridge' }));
      assert.equal((await mustFail(dflt.start())).code, 'OCIRuntimeNotFound');
      for (const network of ['none', 'host'] as const) {
        const c = await must(r.newContainer({ rootfs, command: ['x'], network }));
        await must(c.start());
        assert.equal(await must(c.state()), 'running');
        await must(c.stop({ timeout: 0 }));
      }
    });
  }
});
