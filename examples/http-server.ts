/**
 * HTTP from a container: busybox `httpd` on a bridge network of its own,
 * port 80 published on 127.0.0.1 (a free host port is picked), fetched
 * from the host. Run as root: `npm run example:http` (installs runc,
 * conmon, busybox-static, netavark, aardvark-dns and iptables when missing,
 * then runs this file).
 *
 * Create a network, create and start the server, read the published port
 * from `inspect()`, GET the page through 127.0.0.1:<port>, print it, stop
 * and remove the container, remove the network. Traffic stays on
 * 127.0.0.1; the network's DNS forwards to 127.0.0.1 only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs } from './busybox-rootfs.js';
import { Runtime, type Container, type Network } from '../src/index.js';

/** GET http://127.0.0.1:<port>/ with a 2 s timeout: the status line's code and the body, or undefined. */
function get(port: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** GET until httpd answers: at most 50 tries, 100 ms apart. */
async function getEventually(port: number): Promise<{ status: number; body: string } | undefined> {
  for (let i = 0; i < 50; i++) {
    const r = await get(port);
    if (r) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'libpod-ts-http-'));
  const opened = await Runtime.open({ root: join(dir, 'root'), runRoot: join(dir, 'run') });
  if (opened.isErr()) {
    console.error(`cannot open runtime: ${opened.error.code}: ${opened.error.message}`);
    return 1;
  }
  const runtime = opened.value;
  let network: Network | undefined;
  let ctr: Container | undefined;
  try {
    // A subnet and bridge name are picked (the next free /24 of 10.89.0.0/16); names
    // outside the network are forwarded to 127.0.0.1 only.
    const net = await runtime.newNetwork({ name: 'example-http', dnsServers: ['127.0.0.1'] });
    if (net.isErr()) throw net.error;
    network = net.value;
    const netInfo = await network.inspect();
    if (netInfo.isErr()) throw netInfo.error;
    const { subnets, networkInterface } = netInfo.value;
    console.log(`network ${network.name}: ${subnets.map((s) => s.subnet).join(', ')} on bridge ${networkInterface}`);

    const script = 'mkdir -p /tmp/www && echo "hello from $(hostname), served by busybox httpd" > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www';
    const created = await runtime.newContainer({
      name: 'web',
      rootfs: busyboxRootfs(dir),
      command: ['/bin/sh', '-c', script],
      networks: { [network.name]: {} },
      ports: [{ hostIP: '127.0.0.1', containerPort: 80 }],
      stopTimeout: 2,
    });
    if (created.isErr()) throw created.error;
    ctr = created.value;
    const started = await ctr.start();
    if (started.isErr()) throw started.error;

    const info = await ctr.inspect();
    if (info.isErr()) throw info.error;
    const published = info.value.networkSettings.ports['80/tcp']?.[0];
    const endpoint = info.value.networkSettings.networks[network.name];
    if (!published) throw new Error('port 80 is not published');
    console.log(`container ${ctr.name} (${ctr.id.slice(0, 12)}): ${endpoint?.ipAddress ?? '?'} on ${network.name}, port 80 published on ${published.hostIP}:${published.hostPort}`);

    const page = await getEventually(published.hostPort);
    if (!page) throw new Error(`no answer from 127.0.0.1:${published.hostPort}`);
    console.log(`GET http://127.0.0.1:${published.hostPort}/ -> ${page.status}: ${page.body.trim()}`);
    return page.status === 200 ? 0 : 1;
  } catch (e) {
    console.error('http-server failed:', e);
    return 1;
  } finally {
    if (ctr) {
      const removed = await runtime.removeContainer(ctr, { force: true, timeout: 2 });
      if (removed.isErr()) console.error(`removing the container: ${removed.error.message}`);
      else console.log('container removed');
    }
    if (network) {
      const removed = await runtime.removeNetwork(network);
      if (removed.isErr()) console.error(`removing the network: ${removed.error.message}`);
      else console.log('network removed');
    }
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
