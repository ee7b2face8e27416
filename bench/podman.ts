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
import { run, type Subject } from './measure.js';

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

const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

/**
 * podman with its storage, tmp dir and containers.conf below `workDir` and
 * its run root in `runDir`. `close` removes the exec container; the caller
 * removes both (unmounting what podman left there).
 */
export async function podmanSubject(workDir: string, runDir: string, rootfs: string): Promise<Subject> {
  const dirs = { root: join(workDir, 'root'), runroot: runDir, tmpdir: join(workDir, 'tmp') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const conf = join(workDir, 'containers.conf');
  await writeFile(conf, CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const g = ['--root', dirs.root, '--runroot', dirs.runroot, '--tmpdir', dirs.tmpdir, '--storage-driver', 'vfs'];
  const podman = (args: string[]): Promise<string> => run('podman', [...g, ...args], env);
  const name = 'lpts-bench-exec';
  let execStarted = false;
  return {
    key: 'podman',
    run: async () => {
      await podman(['run', '--rm', '--network', 'none', '--rootfs', rootfs, '/bin/true']);
    },
    startExecTarget: async () => {
      execStarted = true;
      await podman(['run', '--detach', '--name', name, '--network', 'none', '--rootfs', rootfs, '/bin/sleep', '3600']);
    },
    exec: async () => {
      await podman(['exec', name, '/bin/true']);
    },
    close: async () => {
      if (execStarted) await podman(['rm', '--force', '--ignore', '--time', '0', name]);
    },
  };
}
