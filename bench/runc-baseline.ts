/**
 * The baseline: bare runc, no monitor, no state. `runc run` of `/bin/true`
 * and `runc exec` of `/bin/true` in a running container.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciSpec } from '../src/oci/oci-spec-types.js';
import { run, runDetached, type Subject } from './measure.js';

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

/**
 * Bare runc: bundles below `workDir`, its `--root` in `runDir`. `close`
 * deletes the exec container; `runc run` in the foreground deletes its own.
 */
export async function runcSubject(workDir: string, runDir: string, rootfs: string): Promise<Subject> {
  const g = ['--root', runDir];
  const runBundle = await writeBundle(join(workDir, 'run'), rootfs, ['/bin/true']);
  const execBundle = await writeBundle(join(workDir, 'exec'), rootfs, ['/bin/sleep', '3600']);
  const execId = 'bench-exec';
  let execStarted = false;
  return {
    key: 'runc',
    run: async (i) => {
      await run(RUNC, [...g, 'run', '--bundle', runBundle, `bench-run-${i + 2}`]);
    },
    startExecTarget: async () => {
      execStarted = true;
      await runDetached(RUNC, [...g, 'run', '--detach', '--bundle', execBundle, execId]);
    },
    exec: async () => {
      await run(RUNC, [...g, 'exec', execId, '/bin/true']);
    },
    close: async () => {
      if (execStarted) await run(RUNC, [...g, 'delete', '--force', execId]);
    },
  };
}
