/**
 * Whether checkpoint/restore works on this host: `criu check`, run once per
 * runtime instance and cached (libpod asks the runtime; runc itself needs a
 * working CRIU). On this kind of VM CRIU fails on the vDSO, so the answer is
 * `NotImplemented` with CRIU's own output as the reason.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { runCommand } from '../../host/command.js';
import { logger } from '../../util/log.js';
import { findBinary } from './binaries.js';

const log = logger('oci:conmon');

/** The cached result of `criu check` for one runtime instance. */
export class CheckpointSupport {
  private cached: ResultAsync<void, LibpodError> | undefined;

  /** @param criuPath An explicit criu binary; searched on `PATH` otherwise. */
  constructor(private readonly criuPath?: string) {}

  /** `Ok` when `criu check` passes; otherwise `NotImplemented` with the reason. Runs once. */
  check(): ResultAsync<void, LibpodError> {
    if (!this.cached) {
      const run = findBinary('criu', this.criuPath, 'NotImplemented')
        .mapErr((e) => libpodError('NotImplemented', `checkpoint/restore needs CRIU: ${e.message}`, e))
        .andThen((criu) => runCommand(criu, ['check'], { timeoutMs: 30_000, notFoundCode: 'NotImplemented' }))
        .andThen((out) => {
          if (out.code === 0) return okAsync(undefined);
          const why =
            (out.stderr || out.stdout)
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l !== '')
              .join('; ') || `exit status ${out.code}`;
          log('criu check failed: %s', why);
          return errAsync(libpodError('NotImplemented', `checkpoint/restore needs a working CRIU: \`criu check\` failed: ${why}`));
        })
        .mapErr((e) => (e.code === 'NotImplemented' ? e : libpodError('NotImplemented', `checkpoint/restore needs a working CRIU: ${e.message}`, e)));
      // A ResultAsync wraps an eager promise: keeping it runs criu once.
      this.cached = run;
    }
    return this.cached;
  }
}
