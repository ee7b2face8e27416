/**
 * ext4's "top of directory hierarchies" hint (`chattr +T`, `FS_TOPDIR_FL`):
 * the Orlov inode allocator then places each new subdirectory of the
 * marked directory in a block group of its own (one with more free inodes
 * than average and the fewest directories, starting at a hash of the
 * subdirectory's name), as it does for the children of `/`, instead of the
 * parent's block group.
 *
 * Why the store marks its layer homes: a layer is an independent tree of
 * thousands of inodes. Without the hint it lands in the block group of the
 * store's parent directory, which on a busy host is also where every other
 * program creates and deletes files. ext4 without a journal skips free
 * inodes deleted in the last minute(s) when it allocates (`recently_deleted`
 * in `find_inode_bit`), scanning the group's bitmap for each new inode: in a
 * group with thousands of recently deleted inodes, every `open(O_CREAT)`,
 * `mkdir` and `symlink` costs hundreds of microseconds, which made a
 * 6,800-file layer take seconds of kernel time (see the README's
 * performance notes). In a group of its own the same extraction takes a
 * tenth of that. With a journal, or on other filesystems, the hint changes
 * only where inodes go.
 *
 * `chattr` comes from e2fsprogs (Debian: required). Filesystems without the
 * flag (xfs, btrfs, tmpfs) refuse it; that is fine and only logged.
 * @module
 */
import { logger } from '../util/log.js';
import { runCommand } from './command.js';

const log = logger('host:top-dir');

/** Marks `dir` as the top of directory hierarchies; resolves to whether the filesystem took the hint. */
export async function markTopDir(dir: string): Promise<boolean> {
  const r = await runCommand('chattr', ['+T', dir], { notFoundCode: 'Internal', timeoutMs: 10_000 });
  if (r.isErr()) {
    log('chattr +T %s: %s', dir, r.error.message);
    return false;
  }
  if (r.value.code !== 0) {
    log('chattr +T %s: %s', dir, r.value.stderr.trim());
    return false;
  }
  return true;
}
