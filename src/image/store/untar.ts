/**
 * Extraction of a layer tar into an empty directory with GNU tar (C speed,
 * and everything Node cannot do: device nodes, xattrs, numeric owners).
 *
 * Why GNU tar is safe here: every layer extracts into its own empty
 * directory; GNU tar strips leading `/`, refuses members and hard-link
 * targets with `..`, and turns absolute or `..` symlinks into placeholders
 * until the end, so no member is written through a symlink of the same
 * archive. Any refusal is a non-zero exit, which the store reports as
 * `ImageCorrupt`. `trusted.overlay.*` xattrs from an archive are dropped
 * (they would steer overlayfs: redirects, opaque markers).
 * @module
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawnProcess } from '../../host/command.js';
import { libpodError } from '../../define/errors.js';

/** Options of {@link untar}. */
export interface UntarOptions {
  /** Restore owners and modes as recorded (default: when running as root). */
  sameOwner?: boolean;
}

function tarArgs(dir: string, sameOwner: boolean): string[] {
  return [
    '-x', '-f', '-', '-C', dir,
    '--numeric-owner',
    sameOwner ? '--same-owner' : '--no-same-owner',
    '--same-permissions',
    '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*',
    '--warning=no-unknown-keyword', '--warning=no-timestamp',
  ];
}

/**
 * Extracts the tar `src` into the existing directory `dir`. Rejects with an
 * `ImageCorrupt` LibpodError when tar refuses the archive (malformed,
 * truncated, an entry that would escape), and with the stream's error when
 * `src` fails (a decompression or digest error upstream).
 */
export async function untar(src: Readable, dir: string, opts: UntarOptions = {}): Promise<void> {
  const sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
  const child = spawnProcess('tar', tarArgs(dir, sameOwner), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const stdin = child.stdin;
  if (!stdin) throw libpodError('Internal', 'tar has no stdin');
  let streamError: unknown;
  try {
    await pipeline(src, stdin);
  } catch (e) {
    streamError = e;
    // tar may have exited early (EPIPE): what it said matters more; else the source's failure.
    child.kill('SIGKILL');
  }
  const code = await exited;
  if (streamError !== undefined && (streamError as NodeJS.ErrnoException).code !== 'EPIPE') throw streamError;
  if (code !== 0 || streamError !== undefined) {
    throw libpodError('ImageCorrupt', `extracting layer: tar exited with status ${code}: ${stderr.trim().split('\n').slice(-3).join('; ')}`);
  }
}
