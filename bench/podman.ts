/**
 * podman for comparison, when installed: `podman run --rm --rootfs` of
 * `/bin/true` and `podman exec` of `/bin/true`, on private temp roots and a
 * temp containers.conf (default nofile ulimit lowered: this host has no
 * CAP_SYS_RESOURCE, so podman's 1048576 would fail).
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../src/host/command.js';
import { run, sample } from './measure.js';

/** Whether `podman` can be run. */
export async function podmanAvailable(): Promise<boolean> {
  const r = await runCommand('podman', ['--version'], { notFoundCode: 'Internal', timeoutMs: 30_000 });
  return r.isOk() && r.value.code === 0;
}

/** `apt-get install podman` (root only); quiet unless it fails. */
export async function installPodman(): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], env);
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'podman'], env);
}

/** Milliseconds of each `podman run` and each `podman exec`. */
export interface PodmanSamples {
  run: number[];
  exec: number[];
}

const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

/**
 * Measures podman with its storage, run root, tmp dir and containers.conf all
 * below `workDir`. The exec container is removed before it returns, also on
 * failure; the caller removes `workDir` (unmounting what podman left there).
 */
export async function benchPodman(workDir: string, rootfs: string, iterations: number): Promise<PodmanSamples> {
  const dirs = { root: join(workDir, 'root'), runroot: join(workDir, 'runroot'), tmpdir: join(workDir, 'tmp') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const conf = join(workDir, 'containers.conf');
  await writeFile(conf, CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const g = ['--root', dirs.root, '--runroot', dirs.runroot, '--tmpdir', dirs.tmpdir, '--storage-driver', 'vfs'];
  const podman = (args: string[]): Promise<string> => run('podman', [...g, ...args], env);

  const runs = await sample(iterations, async () => {
    await podman(['run', '--rm', '--network', 'none', '--rootfs', rootfs, '/bin/true']);
  });

  const name = 'lpts-bench-exec';
  try {
    await podman(['run', '--detach', '--name', name, '--network', 'none', '--rootfs', rootfs, '/bin/sleep', '3600']);
    const execs = await sample(iterations, async () => {
      await podman(['exec', name, '/bin/true']);
    });
    return { run: runs, exec: execs };
  } finally {
    await podman(['rm', '--force', '--ignore', '--time', '0', name]).catch((e: unknown) => console.error(`podman cleanup: ${String(e)}`));
  }
}
