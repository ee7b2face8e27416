/**
 * Quickstart: a real container through the default runtime (conmon + runc).
 * Run as root: `npm run example` (installs runc, conmon and busybox-static
 * when missing, then runs this file).
 *
 * Create, start, exec, read logs, stop, inspect, read events, remove.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { busyboxRootfs } from './busybox-rootfs.js';
import { Runtime } from '../src/index.js';

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'libpod-ts-quickstart-'));
  const opened = await Runtime.open({ root: join(dir, 'root'), runRoot: join(dir, 'run') });
  if (opened.isErr()) {
    console.error(`cannot open runtime: ${opened.error.code}: ${opened.error.message}`);
    return 1;
  }
  const runtime = opened.value;
  try {
    const created = await runtime.newContainer({
      name: 'hello',
      rootfs: busyboxRootfs(dir),
      command: ['/bin/sh', '-c', 'echo "hello from $(hostname)"; trap "exit 0" TERM; while true; do sleep 0.1; done'],
    });
    if (created.isErr()) throw created.error;
    const ctr = created.value;
    console.log(`created ${ctr.name} (${ctr.id.slice(0, 12)})`);

    const started = await ctr.start();
    if (started.isErr()) throw started.error;
    console.log(`state: ${(await ctr.state()).unwrapOr('unknown')}`);

    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const exec = await ctr.exec(['/bin/sh', '-c', 'echo exec says hi; exit 3'], { streams: { stdout: out } });
    if (exec.isErr()) throw exec.error;
    console.log(`exec printed ${JSON.stringify(text)} and exited ${exec.value.exitCode}`);

    await new Promise((r) => setTimeout(r, 200));
    for await (const line of ctr.logs()) console.log(`log [${line.stream}] ${line.text}`);

    const stopped = await ctr.stop({ timeout: 5 });
    if (stopped.isErr()) throw stopped.error;
    const info = await ctr.inspect();
    if (info.isErr()) throw info.error;
    console.log(`stopped: state ${info.value.state}, exit code ${info.value.exitCode}`);

    const events = await runtime.readEvents({ filter: { id: ctr.id } });
    console.log(`events: ${events.unwrapOr([]).map((e) => e.status).join(', ')}`);

    const removed = await runtime.removeContainer(ctr);
    if (removed.isErr()) throw removed.error;
    console.log('removed');
    return 0;
  } catch (e) {
    console.error('quickstart failed:', e);
    return 1;
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
