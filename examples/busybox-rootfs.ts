/**
 * A throwaway root filesystem for the examples: the host's static busybox
 * (Debian package busybox-static) and links for the applets they use.
 */
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'ls', 'true', 'hostname', 'id', 'nc', 'readlink', 'mkdir', 'httpd'];

/** Builds `<dir>/rootfs` and returns its path. */
export function busyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  return rootfs;
}
