/**
 * libpod-ts through its public API (conmon + runc): a whole container life of
 * `/bin/true`, and `exec` of `/bin/true` in a running container; and the
 * same life with a published port on a network of its own.
 * @module
 */
import { Runtime, type Container } from '../src/index.js';
import { must, type Subject } from './measure.js';
import type { BenchNetwork, NetSubject } from './network.js';

/**
 * libpod-ts with a runtime on `root` / `runRoot`. `close` removes every
 * container it made and closes the runtime.
 */
export async function libpodSubject(root: string, runRoot: string, rootfs: string): Promise<Subject> {
  const runtime = must(await Runtime.open({ root, runRoot }), 'Runtime.open');
  const made = new Set<Container>();
  let target: Container | undefined;
  return {
    key: 'libpod',
    run: async () => {
      const ctr = must(await runtime.newContainer({ rootfs, command: ['/bin/true'], network: 'none' }), 'newContainer');
      made.add(ctr);
      must(await ctr.start(), 'start');
      const code = must(await ctr.wait(), 'wait');
      if (code !== 0) throw new Error(`/bin/true exited with ${code}`);
      must(await runtime.removeContainer(ctr, { force: true }), 'removeContainer');
      made.delete(ctr);
    },
    startExecTarget: async () => {
      target = must(await runtime.newContainer({ rootfs, command: ['/bin/sleep', '3600'], network: 'none', stopTimeout: 0 }), 'newContainer');
      made.add(target);
      must(await target.start(), 'start');
    },
    exec: async () => {
      if (!target) throw new Error('no exec target');
      const { exitCode } = must(await target.exec(['/bin/true']), 'exec');
      if (exitCode !== 0) throw new Error(`exec /bin/true exited with ${exitCode}`);
    },
    close: async () => {
      const problems: string[] = [];
      for (const ctr of made) {
        const r = await runtime.removeContainer(ctr, { force: true, timeout: 0 });
        if (r.isErr() && r.error.code !== 'NoSuchCtr') problems.push(r.error.message);
      }
      const closed = await runtime.close();
      if (closed.isErr()) problems.push(closed.error.message);
      if (problems.length > 0) throw new Error(`libpod-ts cleanup: ${problems.join('; ')}`);
    },
  };
}

/**
 * libpod-ts on a network of its own (`net`): a container life of `/bin/true`
 * publishing one port (127.0.0.1:`net.hostPort` to 80), and a neighbour on
 * the same network. `close` removes the containers and the network.
 */
export async function libpodNetSubject(root: string, runRoot: string, rootfs: string, net: BenchNetwork): Promise<NetSubject> {
  const runtime = must(await Runtime.open({ root, runRoot }), 'Runtime.open');
  must(await runtime.newNetwork({ name: net.name, subnet: net.subnet, interfaceName: net.bridge, dnsServers: ['127.0.0.1'] }), 'newNetwork');
  const made = new Set<Container>();
  let neighbour: Container | undefined;
  const networks = { [net.name]: {} };
  return {
    key: 'libpod',
    life: async () => {
      const ports = [{ hostIP: '127.0.0.1', hostPort: net.hostPort, containerPort: 80 }];
      const ctr = must(await runtime.newContainer({ rootfs, command: ['/bin/true'], networks, ports }), 'newContainer');
      made.add(ctr);
      must(await ctr.start(), 'start');
      const code = must(await ctr.wait(), 'wait');
      if (code !== 0) throw new Error(`/bin/true exited with ${code}`);
      must(await runtime.removeContainer(ctr, { force: true }), 'removeContainer');
      made.delete(ctr);
    },
    startNeighbour: async () => {
      neighbour = must(await runtime.newContainer({ rootfs, command: ['/bin/sleep', '3600'], networks, stopTimeout: 0 }), 'newContainer');
      made.add(neighbour);
      must(await neighbour.start(), 'start');
    },
    stopNeighbour: async () => {
      if (!neighbour) return;
      must(await runtime.removeContainer(neighbour, { force: true, timeout: 0 }), 'removeContainer');
      made.delete(neighbour);
      neighbour = undefined;
    },
    close: async () => {
      const problems: string[] = [];
      for (const ctr of made) {
        const r = await runtime.removeContainer(ctr, { force: true, timeout: 0 });
        if (r.isErr() && r.error.code !== 'NoSuchCtr') problems.push(r.error.message);
      }
      const removed = await runtime.removeNetwork(net.name, { force: true });
      if (removed.isErr()) problems.push(removed.error.message);
      const closed = await runtime.close();
      if (closed.isErr()) problems.push(closed.error.message);
      if (problems.length > 0) throw new Error(`libpod-ts cleanup: ${problems.join('; ')}`);
    },
  };
}
