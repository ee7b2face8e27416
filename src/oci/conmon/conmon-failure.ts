/**
 * The error of a failed create or exec (libpod `getOCIRuntimeError`): the
 * runtime's JSON log line first, then conmon's sync message, then a failure
 * to run conmon at all, then whatever conmon printed before it daemonized.
 * @module
 */
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { ConmonLaunch } from './conmon-launch.js';
import { readOciLog } from './oci-log.js';
import { delay } from './pids.js';
import { ociRuntimeError } from './runc-cli.js';
import type { ConmonContext } from './runtime-context.js';

/** Says why crun failed when the failure is about cgroups on a hybrid host. */
function crunHint(ctx: ConmonContext, e: LibpodError): LibpodError {
  if (ctx.runtimeName !== 'crun' || !/cgroup/i.test(e.message)) return e;
  return libpodError('OCIRuntime', `${e.message} (crun does not work on hybrid cgroup v1/v2 hosts such as this one; use runc)`, e);
}

/**
 * Builds the error after conmon reported a failure (`message`) or closed its
 * sync pipe without a word. `what` names the operation in the last resort
 * message (`'container create'`, `'exec'`).
 */
export async function conmonFailure(ctx: ConmonContext, launch: ConmonLaunch, ociLogPath: string, message: string | undefined, what: string): Promise<LibpodError> {
  const fromLog = await readOciLog(ociLogPath);
  if (fromLog !== undefined) return crunHint(ctx, ociRuntimeError(ctx.runtimeName, fromLog));
  if (message !== undefined) return crunHint(ctx, ociRuntimeError(ctx.runtimeName, message));
  const first = await Promise.race([launch.firstExit, delay(2_000)]);
  if (first?.error) {
    const code = (first.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'OCIRuntimeNotFound' : 'OCIRuntime';
    return libpodError(code, `cannot run conmon ${ctx.conmonPath}: ${first.error.message}`, first.error);
  }
  const stderr = launch.stderr();
  return libpodError('OCIRuntime', `${what} failed (no logs from conmon)${stderr ? `: ${stderr}` : ''}`);
}
