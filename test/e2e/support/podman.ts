/**
 * podman as an oracle: private --root/--runroot/--tmpdir below a temp dir,
 * runc + cgroupfs, the vfs driver (no mounts to leak) and a containers.conf
 * with lowered ulimits (this host lacks CAP_SYS_RESOURCE).
 *
 * ```ts
 * const p = await privatePodman();
 * const id = (await p.run(['load', '-q', '-i', file])).trim();
 * await p.cleanup();
 * ```
 * @module
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../src/host/command.js';

/** A podman on private roots. */
export interface PrivatePodman {
  dir: string;
  /** Runs podman; rejects with its stderr on a non-zero exit; resolves to stdout. */
  run(args: string[], timeoutMs?: number): Promise<string>;
  /** Removes its containers and roots. */
  cleanup(): Promise<void>;
}

const CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

/** A podman with its own roots below a new temp dir. */
export async function privatePodman(driver: 'vfs' | 'overlay' = 'vfs'): Promise<PrivatePodman> {
  const dir = await mkdtemp(join(tmpdir(), 'libpod-podman-'));
  const dirs = { root: join(dir, 'root'), runroot: join(dir, 'run'), tmpdir: join(dir, 'tmp') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'containers.conf'), CONF);
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const global = ['--root', dirs.root, '--runroot', dirs.runroot, '--tmpdir', dirs.tmpdir, '--storage-driver', driver, '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
  const run = async (args: string[], timeoutMs = 120_000): Promise<string> => {
    const r = await runCommand('podman', [...global, ...args], { env, timeoutMs, notFoundCode: 'Internal' });
    if (r.isErr()) throw r.error;
    if (r.value.code !== 0) throw new Error(`podman ${args.join(' ')}: ${r.value.stderr.trim()}`);
    return r.value.stdout;
  };
  return {
    dir,
    run,
    cleanup: async () => {
      await run(['rm', '--all', '--force', '--time', '0']).catch(() => undefined);
      await run(['rmi', '--all', '--force']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
