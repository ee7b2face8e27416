/**
 * conmon's control FIFO `<dir>/ctl` (reference §4.4): one `TYPE HEIGHT
 * WIDTH\n` line per open/write/close, because conmon's line splitter
 * mishandles two messages in one read. Type 1 resizes the terminal, type 2
 * reopens the log files.
 * @module
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResultAsync } from 'neverthrow';
import { attempt, failAsync, libpodError, type LibpodError } from '../../define/errors.js';
import type { TerminalSize } from '../../define/streams.js';

/** ctl message types (conmon's). */
export const CTL_RESIZE = 1;
/** Reopen (truncate) the log files. */
export const CTL_REOPEN_LOGS = 2;

/** How long EAGAIN/EINTR are retried, 100 ms apart. */
const RETRY_MS = 5_000;

function retryable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EINTR';
}

async function writeOnce(path: string, line: string): Promise<void> {
  const deadline = Date.now() + RETRY_MS;
  for (;;) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        await fh.write(line);
        return;
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (!retryable(e) || Date.now() >= deadline) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENXIO' ? 'conmon is not running' : code === 'ENOENT' ? 'no control file (container not running under conmon)' : (e as Error).message;
        throw libpodError('OCIRuntime', `could not write to ctl file ${path}: ${why}`, e);
      }
      await sleep(100);
    }
  }
}

/** Writes one message to `<dir>/ctl`. */
export function writeCtl(dir: string, type: number, height: number, width: number): ResultAsync<void, LibpodError> {
  return attempt(() => writeOnce(join(dir, 'ctl'), `${type} ${height} ${width}\n`), 'OCIRuntime', 'writing to conmon ctl file');
}

/** Resizes the terminal conmon holds for the process whose bundle (or exec dir) is `dir`. */
export function resizeTerminal(dir: string, size: TerminalSize): ResultAsync<void, LibpodError> {
  const ok = (n: number): boolean => Number.isInteger(n) && n > 0 && n <= 0xffff;
  if (!ok(size.width) || !ok(size.height)) {
    return failAsync('InvalidArg', `invalid terminal size ${size.width}x${size.height}: width and height must be integers between 1 and 65535`);
  }
  return writeCtl(dir, CTL_RESIZE, size.height, size.width);
}
