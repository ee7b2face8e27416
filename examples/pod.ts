/**
 * Pods: two containers sharing a network namespace through the pod's infra
 * container (catatonit), with a named volume between them. Run as root with
 * the real runtime: `npx tsx examples/pod.ts` (needs runc, conmon,
 * busybox-static and catatonit: `bash scripts/setup-host.sh`).
 *
 * Create a pod, add a server and a client, start the pod, show that both see
 * the same network namespace and hostname, talk over the pod's loopback,
 * read the pod's status, stop it, remove it with its containers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { busyboxRootfs } from './busybox-rootfs.js';
import { Runtime, type Container } from '../src/index.js';

/** Runs a shell snippet in a container; resolves to what it printed. */
async function sh(ctr: Container, script: string): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const r = await ctr.exec(['/bin/sh', '-c', script], { streams: { stdout: out } });
  if (r.isErr()) throw r.error;
  return text.trim();
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'libpod-ts-pod-'));
  const opened = await Runtime.open({ root: join(dir, 'root'), runRoot: join(dir, 'run') });
  if (opened.isErr()) {
    console.error(`cannot open runtime: ${opened.error.code}: ${opened.error.message}`);
    return 1;
  }
  const runtime = opened.value;
  runtime.events.on('pod', (e) => console.log(`event: pod ${e.status} ${e.name}`));
  try {
    const rootfs = busyboxRootfs(dir);
    const pod = (await runtime.newPod({ name: 'demo', labels: { example: 'pod' } })).match(
      (p) => p,
      (e) => {
        throw e;
      },
    );
    console.log(`created pod ${pod.name} (${pod.id.slice(0, 12)}), sharing ${pod.share.join(', ')}`);

    const volumes = [{ name: 'demo-data', dest: '/data' }];
    const serverCmd = 'trap "exit 0" TERM; while true; do nc -l -p 8080 -e /bin/cat /data/greeting; done & wait';
    const server = await runtime.newContainer({ name: 'server', pod: 'demo', rootfs, command: ['/bin/sh', '-c', serverCmd], volumes });
    const client = await runtime.newContainer({ name: 'client', pod: 'demo', rootfs, command: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], volumes });
    if (server.isErr()) throw server.error;
    if (client.isErr()) throw client.error;

    const started = await pod.start();
    if (started.isErr()) throw started.error;
    await sh(client.value, 'echo "hello over the pod loopback" > /data/greeting');

    for (const c of [server.value, client.value]) {
      console.log(`${c.name}: net ${await sh(c, 'readlink /proc/self/ns/net')}, hostname ${await sh(c, 'hostname')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    console.log(`client got: ${await sh(client.value, 'nc 127.0.0.1 8080 </dev/null')}`);

    const status = await pod.status();
    if (status.isErr()) throw status.error;
    console.log(`pod state: ${status.value.state}; members: ${Object.values(status.value.containers).join(', ')}`);

    const stopped = await pod.stop({ timeout: 5 });
    if (stopped.isErr()) throw stopped.error;
    console.log(`after stop: ${(await pod.status()).map((s) => s.state).unwrapOr('error')}`);

    const removed = await runtime.removePod(pod, { force: true });
    if (removed.isErr()) throw removed.error;
    const vol = await runtime.lookupVolume('demo-data');
    if (vol.isOk()) await runtime.removeVolume(vol.value);
    console.log(`removed; pods left: ${(await runtime.pods()).map((p) => p.length).unwrapOr(-1)}`);
    return 0;
  } catch (e) {
    console.error('example failed:', e);
    return 1;
  } finally {
    // Best effort when something above failed: leave no container running.
    const left = await runtime.lookupPod('demo');
    if (left.isOk()) await runtime.removePod(left.value, { force: true, timeout: 0 });
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
