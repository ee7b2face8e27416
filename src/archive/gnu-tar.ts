/**
 * GNU tar, run through `host/command.ts`: the argument lists this module
 * packs and extracts with, and its stdout as a stream that fails when tar
 * does.
 *
 * Why GNU tar: it is the one tool on a Debian host that reads and writes
 * every file type a root filesystem holds (FIFOs, char and block devices,
 * hard links as links) with xattrs (`SCHILY.xattr.*`, what containers/storage
 * writes), numeric owners, setuid bits and sub-second mtimes, and it can
 * `mknod`, `chown` and `setxattr`, which Node cannot. It runs as its own
 * process, so a 128 MB layer is written at disk speed while Node only scans
 * headers. JS (`tar-scanner.ts`) sits in front of it wherever entries must
 * be checked or rewritten.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import { libpodError } from '../define/errors.js';
import { streamCommand } from '../host/command.js';

/** The GNU tar binary (Debian package `tar`). */
export const TAR = 'tar';

/** Whether this process can chown, mknod and set `trusted.*` / `security.*` xattrs. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Options shared by packing and extraction: PAX with every xattr, numeric owners. */
const COMMON = ['--format=pax', '--numeric-owner', '--xattrs', '--xattrs-include=*'];

/**
 * `tar --create` of `dir`: the whole tree (the root as `./`, everything
 * else without a `./` prefix; or, with `prefix`, the root as `prefix/` and
 * everything under it), or only the entries read NUL-separated from stdin
 * (`entries`: names as given); names sorted; PAX headers named without
 * tar's pid and without atime / ctime, so the same tree packs to the same
 * bytes. `prefix` must be a plain relative path (checked by the caller).
 */
export function packArgs(dir: string, opts: { entries?: boolean; prefix?: string } = {}): string[] {
  const args = ['--create', '--file=-', `--directory=${dir}`, ...COMMON, '--sort=name', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];
  // S: symlink targets are data, never renamed
  if (opts.entries) return [...args, '--null', '--verbatim-files-from', '--files-from=-'];
  if (opts.prefix !== undefined) args.push(`--transform=s,^\\.\\($\\|/\\),${opts.prefix}\\1,S`);
  else args.push('--transform=s,^\\./,,S');
  return [...args, '.'];
}

/**
 * `tar --extract` into `dir`. As root: owners (`--same-owner`), every
 * xattr. Otherwise: no chown, `user.*` xattrs only (the others need
 * privileges). Modes always exactly as stored (`-p`), setuid bits included.
 * Existing files an entry replaces are unlinked first (never `--overwrite`,
 * which would open them, following a symlink).
 */
export function extractArgs(dir: string, asRoot: boolean): string[] {
  const args = ['--extract', '--file=-', `--directory=${dir}`, '--numeric-owner', '--preserve-permissions', '--xattrs'];
  if (asRoot) args.push('--same-owner', '--xattrs-include=*');
  else args.push('--no-same-owner', '--xattrs-include=user.*');
  return args;
}

/** The last meaningful lines of tar's stderr, for an error message. */
export function tarMessage(stderr: string, code: number): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/Exiting with failure status/.test(l));
  return lines.slice(-5).join('; ') || `exit status ${code}`;
}

/**
 * Runs tar with `args` and returns its stdout; the stream errors (with a
 * `LibpodError`, `Internal`) when tar exits non-zero, and ends only once
 * tar has exited. Destroying the stream kills tar. `input` goes to tar's
 * stdin (for `--files-from=-`).
 */
export function tarOutput(args: readonly string[], input?: Buffer): Readable {
  const out = new PassThrough();
  const tar = streamCommand(TAR, args, { notFoundCode: 'Internal', stdin: input ? 'pipe' : 'ignore' });
  if (input) tar.stdin?.end(input);
  tar.stdout.pipe(out, { end: false });
  let finished = false;
  out.once('close', () => {
    if (!finished) tar.kill();
  });
  void tar.exited.match(
    (res) => {
      finished = true;
      if (res.code === 0) out.end();
      else out.destroy(libpodError('Internal', `tar --create failed: ${tarMessage(res.stderr, res.code)}`));
    },
    (e) => {
      finished = true;
      out.destroy(e);
    },
  );
  return out;
}
