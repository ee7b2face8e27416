/**
 * podman for comparison, when installed: `podman run --rm --rootfs` of
 * `/bin/true` and `podman exec` of `/bin/true`, on private temp roots and a
 * temp containers.conf (default nofile ulimit lowered: this host has no
 * CAP_SYS_RESOURCE, so podman's 1048576 would fail).
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../src/host/command.js';
import { run, type Subject } from './measure.js';
import type { BenchNetwork, NetSubject } from './network.js';

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

/** containers.conf: lowered ulimits, cgroupfs, and network configs in `networkDir` (not /etc/containers/networks). */
const containersConf = (networkDir: string): string => `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_config_dir = "${networkDir}"
`;

/** podman on private roots below `workDir` / `runDir`: a function running it with arguments. */
async function privatePodman(workDir: string, runDir: string): Promise<{ podman: (args: string[]) => Promise<string>; networkDir: string }> {
  const dirs = { root: join(workDir, 'root'), runroot: runDir, tmpdir: join(workDir, 'tmp'), networks: join(workDir, 'networks') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const conf = join(workDir, 'containers.conf');
  await writeFile(conf, containersConf(dirs.networks));
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const g = ['--root', dirs.root, '--runroot', dirs.runroot, '--tmpdir', dirs.tmpdir, '--storage-driver', 'vfs', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
  return { podman: (args) => run('podman', [...g, ...args], env), networkDir: dirs.networks };
}

/**
 * podman with its storage, tmp dir and containers.conf below `workDir` and
 * its run root in `runDir`. `close` removes the exec container; the caller
 * removes both (unmounting what podman left there).
 */
export async function podmanSubject(workDir: string, runDir: string, rootfs: string): Promise<Subject> {
  const { podman } = await privatePodman(workDir, runDir);
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

/**
 * podman on a network of its own, made by `podman network create` (its
 * bridge renamed to `net.bridge` in the config file: podman 4.3 has no
 * option for it, and `podman1` could clash with another podman's):
 * `podman run --rm -p 127.0.0.1:<port>:80` of `/bin/true`, and a neighbour
 * on the same network. podman 4.3 cannot set the network's DNS servers
 * (aardvark-dns would forward to the host's resolver): the bench's
 * containers make no lookups.
 */
export async function podmanNetSubject(workDir: string, runDir: string, rootfs: string, net: BenchNetwork): Promise<NetSubject> {
  const { podman, networkDir } = await privatePodman(workDir, runDir);
  await podman(['network', 'create', '--subnet', net.subnet, net.name]);
  const file = join(networkDir, `${net.name}.json`);
  const config = JSON.parse(await readFile(file, 'utf8')) as { network_interface?: string };
  config.network_interface = net.bridge;
  await writeFile(file, JSON.stringify(config, null, 2));
  const name = 'lpts-bench-neighbour';
  let neighbour = false;
  return {
    key: 'podman',
    life: async () => {
      await podman(['run', '--rm', '--network', net.name, '-p', `127.0.0.1:${net.hostPort}:80`, '--rootfs', rootfs, '/bin/true']);
    },
    startNeighbour: async () => {
      neighbour = true;
      await podman(['run', '--detach', '--name', name, '--network', net.name, '--rootfs', rootfs, '/bin/sleep', '3600']);
    },
    stopNeighbour: async () => {
      await podman(['rm', '--force', '--ignore', '--time', '0', name]);
      neighbour = false;
    },
    close: async () => {
      if (neighbour) await podman(['rm', '--force', '--ignore', '--time', '0', name]);
      await podman(['network', 'rm', '--force', net.name]);
    },
  };
}
