/**
 * The floor of a container life with a published port: the OCI layer
 * (bench/oci-layer.ts: conmon + runc, the engine's seccomp profile, conmon
 * holding the published port as the engine asks) plus
 * netavark's own setup and teardown, called directly with the JSON the
 * engine sends, on a network namespace the floor makes (`unshare --net=<file>
 * true`, then `umount`), with addresses handed out by a counter. Nothing of
 * the engine's: no IPAM file or lock, no port check, no state store, no
 * /etc files. libpod-ts minus this is what the engine adds.
 * @module
 */
import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateId } from '../src/define/ids.js';
import type { SetupRequest } from '../src/network/backend.js';
import { buildNetworkConfig } from '../src/network/network-create.js';
import type { NetworkConfig } from '../src/network/network-config.js';
import { runCommand } from '../src/host/command.js';
import { must, run } from './measure.js';
import type { BenchNetwork, NetSubject } from './network.js';
import { ociLayer, type OciContainer } from './oci-layer.js';

const LIBEXEC_DIRS = ['/usr/libexec/podman', '/usr/lib/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman'];

async function findBinary(name: string): Promise<string> {
  for (const d of LIBEXEC_DIRS) {
    try {
      await access(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found (apt-get install netavark aardvark-dns)`);
}

/** Milliseconds per step of the floor's lives (the bench prints their medians). */
export type FloorSteps = Map<'netns' | 'setup' | 'oci' | 'teardown', number[]>;

/** The floor on network `net`: OCI layer below `workDir` / `runDir`, netavark's config dir `<runDir>/networks`. */
export async function networkFloorSubject(workDir: string, runDir: string, rootfs: string, net: BenchNetwork): Promise<NetSubject & { steps: FloorSteps }> {
  const layer = await ociLayer(workDir, join(runDir, 'oci'), rootfs);
  const netavark = await findBinary('netavark');
  const aardvark = await findBinary('aardvark-dns');
  const configDir = join(runDir, 'networks');
  const netnsDir = join(runDir, 'netns');
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await mkdir(netnsDir, { recursive: true, mode: 0o700 });
  const neighbours = { networks: [], routes: [], interfaces: new Set<string>() };
  const config: NetworkConfig = must(
    buildNetworkConfig({ name: net.name, subnet: net.subnet, interfaceName: net.bridge, dnsServers: ['127.0.0.1'] }, neighbours),
    'network config',
  );
  const prefix = net.subnet.split('.').slice(0, 3).join('.');
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };
  const steps: FloorSteps = new Map([['netns', []], ['setup', []], ['oci', []], ['teardown', []]]);
  let counter = 0;
  /** Namespaces wired and not yet unwired (undone by `close` after a failure). */
  const live = new Set<Wired>();

  /** What one container of the floor holds: its namespace, netavark's request, and the OCI container. */
  interface Wired {
    netns: string;
    req: SetupRequest;
    ctr?: OciContainer;
  }

  const netavarkCall = async (verb: 'setup' | 'teardown', w: Wired): Promise<void> => {
    const out = must(
      await runCommand(netavark, ['--config', configDir, '--rootless=false', '--aardvark-binary', aardvark, verb, w.netns], { input: JSON.stringify(w.req), env }),
      `netavark ${verb}`,
    );
    if (out.code !== 0) throw new Error(`netavark ${verb}: ${(out.stdout || out.stderr).trim()}`);
  };

  const timed = async <T>(step: 'netns' | 'setup' | 'oci' | 'teardown', record: boolean, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await f();
    if (record) steps.get(step)?.push(performance.now() - t0);
    return v;
  };

  /** Namespace, then netavark's setup (with the port when `hostPort` is given). */
  const wire = async (ip: string, hostPort: number | undefined, record: boolean): Promise<Wired> => {
    const id = generateId();
    const netns = join(netnsDir, id);
    await timed('netns', record, async () => {
      await writeFile(netns, '', { mode: 0o600 });
      await run('unshare', [`--net=${netns}`, 'true']);
    });
    const req: SetupRequest = {
      container_id: id,
      container_name: `floor-${id.slice(0, 12)}`,
      networks: { [net.name]: { interface_name: 'eth0', static_ips: [ip], aliases: [] } },
      network_info: { [net.name]: config },
      port_mappings: hostPort === undefined ? [] : [{ host_ip: '127.0.0.1', host_port: hostPort, container_port: 80, protocol: 'tcp', range: 1 }],
    };
    const w: Wired = { netns, req };
    live.add(w);
    await timed('setup', record, () => netavarkCall('setup', w));
    return w;
  };

  /** netavark's teardown, then the namespace unmounted and deleted. */
  const unwire = async (w: Wired, record: boolean): Promise<void> => {
    await timed('teardown', record, () => netavarkCall('teardown', w));
    await run('umount', [w.netns]);
    await rm(w.netns, { force: true });
    live.delete(w);
  };

  let neighbour: Wired | undefined;
  return {
    key: 'floor',
    steps,
    life: async (i) => {
      const record = i >= 0;
      const w = await wire(`${prefix}.${3 + (counter++ % 250)}`, net.hostPort, record);
      await timed('oci', record, async () => {
        // conmon holds the published port while the container runs, as the engine asks it to.
        const reservePorts = [{ hostIP: '127.0.0.1', hostPort: net.hostPort, protocol: 'tcp' as const }];
        w.ctr = await layer.createAndStart(['/bin/true'], { netns: w.netns, reservePorts });
        await layer.waitTrue(w.ctr.id);
        await layer.remove(w.ctr.id);
      });
      await unwire(w, record);
    },
    startNeighbour: async () => {
      neighbour = await wire(`${prefix}.2`, undefined, false);
      neighbour.ctr = await layer.createAndStart(['/bin/sleep', '3600'], { netns: neighbour.netns });
    },
    stopNeighbour: async () => {
      const w = neighbour;
      if (!w) return;
      neighbour = undefined;
      if (w.ctr) {
        must(await layer.oci.kill(w.ctr.id, 9, false), 'kill');
        must(await layer.oci.waitExit(w.ctr.id, 10_000), 'waitExit');
        await layer.remove(w.ctr.id);
      }
      await unwire(w, false);
    },
    close: async () => {
      const problems: string[] = [];
      const note = (e: unknown): void => void problems.push(e instanceof Error ? e.message : String(e));
      await layer.close().catch(note);
      for (const w of [...live]) await unwire(w, false).catch(note);
      if (problems.length > 0) throw new Error(`floor cleanup: ${problems.join('; ')}`);
    },
  };
}
