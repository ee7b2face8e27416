/**
 * One health check run (libpod `runHealthCheck` + `healthCheckExec`): the
 * test runs as an exec session; the lock is released while it runs. A check
 * that outlives its timeout is killed (libpod `ExecStopContainer(c, id, 0)`)
 * and its session removed, and the run is recorded as podman records it:
 * exit code -1 (`ErrHealthCheckTimeout`), with the output captured so far.
 * @module
 */
import { PassThrough } from 'node:stream';
import { okAsync, ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { HealthLogEntry } from '../define/records.js';
import { logger } from '../util/log.js';
import type { ContainerAccess } from './access.js';
import { execFinish, execStart, type ExecStart } from './exec.js';
import { healthCheckCommand, recordHealth, type HealthCheckResult } from './health.js';

const log = logger('container:health');

/** Exit code recorded for a check that timed out (podman: `returnCode = -1`). */
export const HEALTH_TIMEOUT_EXIT = -1;
/** How long to wait for a killed check's process to be reported gone before removing its session anyway. */
const KILLED_EXIT_WAIT_MS = 10_000;

/** The outcome of the test's process. */
type Outcome = { kind: 'exited'; code: number } | { kind: 'failed'; error: LibpodError } | { kind: 'timeout' };

/** Resolves to `value` after `ms` unless cancelled; `cancel` clears the timer. */
function timer<T>(ms: number, value: T): { promise: Promise<T>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((resolve) => (handle = setTimeout(() => resolve(value), ms)));
  return { promise, cancel: () => clearTimeout(handle) };
}

/** podman's mapping of a result to the log's exit code: 0 passed, 1 failed, 125 could not run, -1 timed out. */
function logExitCode(o: Outcome): number {
  if (o.kind === 'timeout') return HEALTH_TIMEOUT_EXIT;
  if (o.kind === 'exited') return o.code === 0 ? 0 : 1;
  // A runtime that refused the command (not found, permission denied) is a plain failure.
  return o.error.code.startsWith('OCIRuntime') ? 1 : 125;
}

/** Waits for the session's process, or the timeout; on timeout kills it and waits (bounded) for its end. */
function awaitProcess(access: ContainerAccess, started: Extract<ExecStart, { sessionId: string }>, timeoutMs: number): ResultAsync<{ outcome: Outcome; code: number }, LibpodError> {
  const exited: Promise<Outcome> = Promise.resolve(started.session.exited).then((r) =>
    r.isOk() ? { kind: 'exited', code: r.value } : { kind: 'failed', error: r.error },
  );
  const deadline = timer<Outcome>(timeoutMs, { kind: 'timeout' });
  const run = async (): Promise<{ outcome: Outcome; code: number }> => {
    const first = await Promise.race([exited, deadline.promise]);
    deadline.cancel();
    if (first.kind !== 'timeout') return { outcome: first, code: first.kind === 'exited' ? first.code : -1 };
    const stopped = await access.run((s) => s.ctx.oci.execStop(s.rec.id, started.sessionId, 0));
    if (stopped.isErr()) log('killing timed-out health check session %s: %s', started.sessionId, stopped.error.message);
    const bound = timer<Outcome>(KILLED_EXIT_WAIT_MS, { kind: 'timeout' });
    const gone = await Promise.race([exited, bound.promise]);
    bound.cancel();
    return { outcome: first, code: gone.kind === 'exited' ? gone.code : -1 };
  };
  return ResultAsync.fromSafePromise(run());
}

/**
 * Runs the container's health check once and records the result. Errors
 * before the test could start (no health check, not running) are returned;
 * a test that fails, cannot run or times out is a recorded result.
 */
export function runHealthCheck(access: ContainerAccess): ResultAsync<HealthCheckResult, LibpodError> {
  const out = new PassThrough();
  let output = '';
  out.on('data', (d: Buffer) => (output += d.toString()));
  const startedAt = new Date();
  const entry = (exitCode: number): HealthLogEntry => ({ start: startedAt.toISOString(), end: new Date().toISOString(), exitCode, output });
  type Began = { started: ExecStart; timeoutMs: number } | { failed: LibpodError };
  return access
    .run((s) =>
      healthCheckCommand(s).andThen(({ command, timeoutMs }) =>
        execStart(s, command, { streams: { stdout: out, stderr: out } })
          .map((started): Began => ({ started, timeoutMs }))
          .orElse((failed) => okAsync<Began, LibpodError>({ failed })),
      ),
    )
    .andThen((began) => {
      if ('failed' in began) return access.run((s) => recordHealth(s, entry(logExitCode({ kind: 'failed', error: began.failed }))));
      const { started, timeoutMs } = began;
      // A command that could not be found or invoked (127 / 126) is a failed check.
      if (!('sessionId' in started)) return access.run((s) => recordHealth(s, entry(logExitCode({ kind: 'exited', code: started.exitCode }))));
      return awaitProcess(access, started, timeoutMs).andThen(({ outcome, code }) =>
        access.run((s) => execFinish(s, started.sessionId, code).andThen(() => recordHealth(s, entry(logExitCode(outcome))))),
      );
    });
}
