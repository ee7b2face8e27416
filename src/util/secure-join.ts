/**
 * Paths inside a root filesystem that never leave it, with the semantics of
 * github.com/cyphar/filepath-securejoin (what libpod uses for volume
 * copy-up, the working directory and user lookups): symlinks are resolved
 * component by component as if `root` were `/`, so an absolute target is
 * relative to `root` and `..` stops at `root`.
 *
 * As securejoin, this is a path computation: it is safe against what the
 * tree contains, not against a process changing the tree at the same time.
 * @module
 */
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';

/** Symlinks followed at most while resolving one path (securejoin's limit: then ELOOP). */
export const MAX_SYMLINK_HOPS = 255;

function isNotExist(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * `root` joined with `unsafePath`, every existing symlink on the way
 * resolved inside `root` (components that do not exist are appended as
 * they are). More than {@link MAX_SYMLINK_HOPS} links (a loop) is
 * `InvalidArg`; an unreadable component (EACCES) is `Internal`.
 */
export function secureJoin(root: string, unsafePath: string): Result<string, LibpodError> {
  if (typeof root !== 'string' || typeof unsafePath !== 'string' || root.includes('\0') || unsafePath.includes('\0')) {
    return err(libpodError('InvalidArg', `invalid path ${JSON.stringify(String(unsafePath))} in ${JSON.stringify(String(root))}`));
  }
  const base = resolve(root);
  const pending = unsafePath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(base, ...resolved, part);
    let target: string | undefined;
    try {
      if (lstatSync(candidate).isSymbolicLink()) target = readlinkSync(candidate);
    } catch (e) {
      if (!isNotExist(e)) return err(libpodError('Internal', `resolving ${unsafePath} in ${root}: ${(e as Error).message}`, e));
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    hops += 1;
    if (hops > MAX_SYMLINK_HOPS) return err(libpodError('InvalidArg', `resolving ${unsafePath} in ${root}: too many levels of symbolic links`));
    if (posix.isAbsolute(target)) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return ok(join(base, ...resolved));
}

/**
 * Creates directory `unsafePath` inside `root` (as `mkdir -p`, new
 * directories get `mode`), resolving it with {@link secureJoin}; returns
 * the host path. Something that is not a directory on the way is
 * `InvalidArg`.
 */
export function mkdirInRoot(root: string, unsafePath: string, mode = 0o755): Result<string, LibpodError> {
  const path = secureJoin(root, unsafePath);
  if (path.isErr()) return path;
  try {
    mkdirSync(path.value, { recursive: true, mode });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') return err(libpodError('InvalidArg', `${unsafePath} exists in ${root}, but is not a directory`));
    return err(libpodError('Internal', `creating ${unsafePath} in ${root}: ${(e as Error).message}`, e));
  }
  // What mkdir found or made at the resolved path: a directory, not a link that appeared meanwhile.
  try {
    if (!lstatSync(path.value).isDirectory()) return err(libpodError('InvalidArg', `${unsafePath} exists in ${root}, but is not a directory`));
  } catch (e) {
    return err(libpodError('Internal', `checking ${unsafePath} in ${root}: ${(e as Error).message}`, e));
  }
  return ok(path.value);
}
