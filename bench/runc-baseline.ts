/**
 * The baseline: bare runc, no monitor, no state. `runc run` of `/bin/true`
 * and `runc exec` of `/bin/true` in a running container.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciSpec } from '../src/oci/oci-spec-types.js';
import { run, runDetached, sample } from './measure.js';

const RUNC = 'runc';
const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** `runc spec`'s default, with `args` and an absolute read-only `rootfs`. */
export function minimalSpec(rootfs: string, args: string[]): OciSpec {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'bench',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

async function writeBundle(dir: string, rootfs: string, args: string[]): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'config.json'), JSON.stringify(minimalSpec(rootfs, args)));
  return dir;
}

/** Milliseconds of each `runc run` and each `runc exec` of `/bin/true`. */
export interface RuncSamples {
  run: number[];
  exec: number[];
}

/**
 * Measures bare runc below `workDir` (bundles and `runcRoot`). Every
 * container it makes is deleted before it returns, also on failure.
 */
export async function benchRunc(workDir: string, runcRoot: string, rootfs: string, iterations: number): Promise<RuncSamples> {
  const g = ['--root', runcRoot];
  const runBundle = await writeBundle(join(workDir, 'run'), rootfs, ['/bin/true']);
  const runs = await sample(iterations, async (i) => {
    // `runc run` in the foreground deletes the container when its process exits.
    await run(RUNC, [...g, 'run', '--bundle', runBundle, `bench-run-${i + 1}`]);
  });

  const execBundle = await writeBundle(join(workDir, 'exec'), rootfs, ['/bin/sleep', '3600']);
  const id = 'bench-exec';
  await runDetached(RUNC, [...g, 'run', '--detach', '--bundle', execBundle, id]);
  try {
    const execs = await sample(iterations, async () => {
      await run(RUNC, [...g, 'exec', id, '/bin/true']);
    });
    return { run: runs, exec: execs };
  } finally {
    await run(RUNC, [...g, 'delete', '--force', id]);
  }
}
