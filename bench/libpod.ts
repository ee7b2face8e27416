/**
 * libpod-ts through its public API (conmon + runc): a whole container life of
 * `/bin/true`, and `exec` of `/bin/true` in a running container.
 * @module
 */
import { Runtime, type Container } from '../src/index.js';
import { must, sample } from './measure.js';

/** Milliseconds of each container life and each exec. */
export interface LibpodSamples {
  run: number[];
  exec: number[];
}

/**
 * Measures libpod-ts with a runtime on `root` / `runRoot`. Every container it
 * makes is removed and the runtime closed before it returns, also on failure.
 */
export async function benchLibpod(root: string, runRoot: string, rootfs: string, iterations: number): Promise<LibpodSamples> {
  const runtime = must(await Runtime.open({ root, runRoot }), 'Runtime.open');
  const made: Container[] = [];
  try {
    const runs = await sample(iterations, async () => {
      const ctr = must(await runtime.newContainer({ rootfs, command: ['/bin/true'], network: 'none' }), 'newContainer');
      made.push(ctr);
      must(await ctr.start(), 'start');
      const code = must(await ctr.wait(), 'wait');
      if (code !== 0) throw new Error(`/bin/true exited with ${code}`);
      must(await runtime.removeContainer(ctr, { force: true }), 'removeContainer');
      made.pop();
    });

    const sleeper = must(await runtime.newContainer({ rootfs, command: ['/bin/sleep', '3600'], network: 'none', stopTimeout: 0 }), 'newContainer');
    made.push(sleeper);
    must(await sleeper.start(), 'start');
    const execs = await sample(iterations, async () => {
      const { exitCode } = must(await sleeper.exec(['/bin/true']), 'exec');
      if (exitCode !== 0) throw new Error(`exec /bin/true exited with ${exitCode}`);
    });
    return { run: runs, exec: execs };
  } finally {
    const problems: string[] = [];
    for (const ctr of made) {
      const r = await runtime.removeContainer(ctr, { force: true, timeout: 0 });
      if (r.isErr() && r.error.code !== 'NoSuchCtr') problems.push(r.error.message);
    }
    const closed = await runtime.close();
    if (closed.isErr()) problems.push(closed.error.message);
    if (problems.length > 0) console.error(`libpod-ts cleanup: ${problems.join('; ')}`);
  }
}
