/**
 * A minimal busybox root filesystem for the benchmark: the host's static
 * `/bin/busybox` (package busybox-static), one symlink per applet, and the
 * directories runc mounts over (`/proc`, `/dev`, `/sys`, ...).
 * @module
 */
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '../src/host/command.js';

/** Where the static busybox comes from. */
export const HOST_BUSYBOX = '/bin/busybox';

const DIRS = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'run', 'var', 'usr/bin', 'usr/sbin', 'sbin'];

/**
 * Builds a busybox rootfs in `dir` (created if needed) and returns `dir`.
 * Throws when busybox is missing (run `scripts/setup-host.sh` as root).
 */
export async function buildBusyboxRootfs(dir: string): Promise<string> {
  for (const d of DIRS) await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
  await copyFile(HOST_BUSYBOX, join(dir, 'bin/busybox'));
  const list = await runChecked(HOST_BUSYBOX, ['--list-full'], { errorCode: 'Internal', notFoundCode: 'Internal' });
  if (list.isErr()) throw new Error(`${HOST_BUSYBOX} --list-full: ${list.error.message} (install busybox-static)`, { cause: list.error });
  const applets = list.value.stdout.split('\n').filter((l) => l !== '' && l !== 'bin/busybox');
  await Promise.all(
    applets.map(async (path) => {
      const depth = path.split('/').length - 1;
      await symlink(`${'../'.repeat(depth)}bin/busybox`, join(dir, path)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }),
  );
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}
