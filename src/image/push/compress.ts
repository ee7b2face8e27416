/**
 * Compressors for pushed layers. gzip: {@link ParallelGzip} (node:zlib on
 * the thread pool) at level {@link PUSH_GZIP_LEVEL}. zstd: Node 20's zlib has
 * no zstd encoder and fzstd only decodes, so the host's `zstd` tool
 * (Debian's package; setup-host installs it) runs as a pipe, at level 3
 * (c/image's default, klauspost's SpeedDefault) on every core (`-T0`).
 * A compressor that fails (zstd missing or exiting non-zero) destroys the
 * stream with a LibpodError, which ends the push.
 * @module
 */
import { Duplex } from 'node:stream';
import { libpodError } from '../../define/errors.js';
import { streamCommand } from '../../host/command.js';
import type { PushCompression } from '../store/blob-info.js';
import { ParallelGzip } from './parallel-gzip.js';

/**
 * zlib's level for pushed gzip layers. c/image compresses with pgzip
 * (klauspost's deflate) at its default level, which is faster and less
 * dense than zlib's 6: on the bench's Debian layer (128 MB) podman's push
 * makes 51.4 MB; zlib makes 49.8 MB at 6 (1.4x the CPU of 4), 50.9 MB at 4,
 * 52.2 MB at 3. Level 4 is the one as dense as podman's output, or denser.
 */
export const PUSH_GZIP_LEVEL = 4;

/** `zstd -3 -T0 -c` as a Duplex. */
function zstdCompressor(): Duplex {
  const cmd = streamCommand('zstd', ['-3', '-T0', '-c', '-q'], { notFoundCode: 'Internal' });
  const duplex = Duplex.from({ writable: cmd.stdin as NodeJS.WritableStream, readable: cmd.stdout }) as Duplex;
  void cmd.exited.match(
    (out) => {
      if (out.code !== 0) duplex.destroy(libpodError('Internal', `zstd: ${out.stderr.trim() || `exit status ${out.code}`}`));
    },
    (e) => duplex.destroy(libpodError('Internal', `zstd compression needs the zstd tool (Debian package zstd): ${e.message}`, e)),
  );
  duplex.once('close', () => cmd.kill());
  return duplex;
}

/** A stream compressing to `kind`. */
export function compressor(kind: PushCompression): Duplex {
  return kind === 'zstd' ? zstdCompressor() : new ParallelGzip(PUSH_GZIP_LEVEL);
}
