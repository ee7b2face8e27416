import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOciRuntime } from '../../src/oci/fake/fake-oci-runtime.js';
import type { OciCreateRequest } from '../../src/oci/oci-runtime.js';
import {
  OCI_CONFORMANCE_ARGS,
  runOciRuntimeConformance,
  type OciConformanceBehaviour,
  type OciConformanceHarness,
} from '../../src/testing/oci-runtime-conformance.js';

/** The fake scripted to behave as the conformance behaviours and the busybox commands exec'd in them. */
function script(fake: FakeOciRuntime, behaviours: Map<string, OciConformanceBehaviour>): void {
  fake.onStart((req) => {
    switch (behaviours.get(req.id)) {
      case 'exit-7':
        return 7;
      case 'ignore-sigterm':
        return { ignoreSignals: ['SIGTERM'] };
      case 'print-hello':
        return { stdout: 'hello\n', exitCode: 0 };
      default:
        return undefined;
    }
  });
  fake.onExec((req) => {
    const [cmd, ...rest] = req.args;
    if (cmd === 'echo') return { stdout: `${rest.join(' ')}\n` };
    const exit = cmd === 'sh' && rest[0] === '-c' ? /^exit (\d+)$/.exec(rest[1] ?? '') : null;
    if (exit) return Number(exit[1]);
    return { error: 'not-found' };
  });
}

async function fakeHarness(): Promise<OciConformanceHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'libpod-ts-fake-oci-'));
  const fake = new FakeOciRuntime();
  const behaviours = new Map<string, OciConformanceBehaviour>();
  script(fake, behaviours);
  return {
    runtime: fake,
    env: { root: join(dir, 'root'), runRoot: join(dir, 'run') },
    async request(behaviour): Promise<OciCreateRequest> {
      const id = randomBytes(32).toString('hex');
      const bundlePath = join(dir, 'bundles', id);
      await mkdir(bundlePath, { recursive: true });
      const spec = {
        ociVersion: '1.0.2',
        process: { args: [...OCI_CONFORMANCE_ARGS[behaviour]], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
        root: { path: join(dir, 'rootfs') },
      };
      await writeFile(join(bundlePath, 'config.json'), JSON.stringify(spec));
      behaviours.set(id, behaviour);
      return { id, name: `ctr-${id.slice(0, 8)}`, bundlePath, spec, logPath: join(bundlePath, 'ctr.log') };
    },
    async exit(id, code) {
      fake.exit(id, code);
      return code;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

runOciRuntimeConformance('fake', fakeHarness);
