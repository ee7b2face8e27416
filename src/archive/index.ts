/**
 * Tar archives of directory trees that keep a filesystem whole: the one
 * home of archive code (container export, volume export / import, volume
 * copy-up, checkpoint rootfs diffs, and image layers).
 *
 * **Tool.** GNU tar (Debian `tar`), run through `host/command.ts`, does the
 * file system work, streaming on stdin / stdout: it is the one common tool
 * that writes and restores FIFOs, char / block devices, hard links as
 * links, xattrs as PAX `SCHILY.xattr.*` (as containers/storage and podman
 * write them), numeric owners, setuid bits and sub-second mtimes, and it
 * can `mknod` / `chown` / `setxattr`, which Node cannot. Node sits in front
 * of it with a small streaming tar scanner (`tar-scanner.ts`) that forwards
 * every entry's bytes unchanged (binary xattr values included) while it
 * checks the entry, and rewrites or drops only what must change.
 *
 * **API.**
 * - {@link packTree}(dir, { entries?, prefix?, whiteouts? }): a `Readable` tar
 *   (PAX, names sorted, same tree gives same bytes); {@link packTrees} for
 *   several trees in one archive.
 * - {@link extractTree}(stream, dir, { symlinks?, whiteouts?, filter?, onEntry? }):
 *   `ResultAsync<ExtractSummary, LibpodError>`. Image-layer code uses
 *   `{ symlinks: 'any', whiteouts: 'overlay' }` to turn `.wh.*` entries into
 *   overlay whiteouts, `onEntry` to see each entry, `filter` to skip some;
 *   it computes digests by teeing the stream it passes in.
 * - {@link exportTree}(dir, file | stream), {@link copyTree}(src, dest).
 *
 * **Containment.** Extraction never writes outside its directory (see
 * `containment.ts`): absolute names, `..`, hard links out of the tree and
 * writes through a symlink (from the archive, or already in the target,
 * such as a volume holding `x -> /etc`) are refused with `InvalidArg`
 * before GNU tar sees the entry.
 *
 * **Privileges.** As root, owners, devices and every xattr namespace are
 * restored. As non-root: files belong to the caller, only `user.*` xattrs
 * are set, and device nodes are skipped and reported in
 * `ExtractSummary.skipped` (as rootless containers/storage does).
 * @module
 */
export { packTree, packTrees, type PackOptions, type PackSource } from './pack.js';
export { extractTree, type ExtractOptions, type ExtractSummary } from './extract.js';
export { copyTree, exportTree } from './export.js';
export { type SymlinkPolicy } from './containment.js';
export { entryXattrs, XATTR_PREFIX, type ArchiveEntry, type EntryType, type PaxRecord } from './entry.js';
export { OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX } from './whiteouts.js';
