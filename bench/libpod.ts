/**
 * libpod-ts through its public API (conmon + runc): a whole container life of
 * `/bin/true`, and `exec` of `/bin/true` in a running container.
 * @module
 */
import { Runtime, type Container } from '../src/index.js';
import { must, type Subject } from './measure.js';

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
