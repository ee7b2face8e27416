/**
 * Exec for {@link FakeOciRuntime}: asks the test's exec handler how the
 * process behaves, writes its output and settles its exit.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../define/errors.js';
import type { OciExecRequest, OciExecSession } from '../oci-runtime.js';
import { deferred } from './fake-attach.js';
import { endExec, writeExecOutput, type FakeContainer, type FakeExecProcess } from './fake-container.js';
import type { FakeExecHandler, FakeExecOutcome, FakeExecRequest } from './fake-types.js';

/** The default exec handler: every command succeeds silently. */
export const defaultExecHandler: FakeExecHandler = () => 0;

/** runc's refusal to exec into a container in `state`, or `undefined` when it may. */
export function execRefusal(c: FakeContainer): LibpodError | undefined {
  if (c.state === 'stopped') return libpodError('OCIRuntime', `cannot exec in a stopped container ${c.id}`);
  if (c.state === 'paused') return libpodError('OCIRuntime', `cannot exec in a paused container ${c.id}`);
  return undefined;
}

function normalise(result: number | FakeExecOutcome): FakeExecOutcome {
  if (typeof result === 'number') return { exitCode: result };
  if (typeof result !== 'object' || result === null) return { exitCode: 0 };
  return result;
}

function startFailure(outcome: FakeExecOutcome, arg0: string): LibpodError | undefined {
  const prefix = 'runc exec failed: unable to start container process: exec:';
  if (outcome.error === 'not-found') {
    return libpodError('OCIRuntimeNotFound', `${prefix} "${arg0}": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found`);
  }
  if (outcome.error === 'permission-denied') {
    return libpodError('OCIRuntime', `${prefix} "${arg0}": permission denied: OCI permission denied`);
  }
  return undefined;
}

/** What the handler is told about `req`. */
function handlerRequest(id: string, req: OciExecRequest): FakeExecRequest {
  const p = req.process;
  return {
    id,
    sessionId: req.sessionId,
    args: [...(p.args ?? [])],
    env: [...(p.env ?? [])],
    cwd: p.cwd,
    user: { ...p.user },
    tty: p.terminal === true,
  };
}

/** Lets stream consumers see what was written before the exit is reported. */
function afterDelivery(code: number): Promise<number> {
  return new Promise((resolve) => setImmediate(() => resolve(code)));
}

/**
 * Runs an exec session in `c`: the handler decides; output goes to
 * `req.streams`; `exited` settles when the process ends (at once unless the
 * outcome says `hang`).
 */
export function runExec(c: FakeContainer, req: OciExecRequest, handler: FakeExecHandler, pid: number): ResultAsync<OciExecSession, LibpodError> {
  const refused = execRefusal(c);
  if (refused) return errAsync(refused);
  if (c.execs.has(req.sessionId)) {
    return errAsync(libpodError('OCIRuntime', `exec session ${req.sessionId} already exists in container ${c.id}`));
  }
  const asked = handlerRequest(c.id, req);
  return attempt(async () => normalise(await handler(asked)), 'OCIRuntime', 'fake exec handler failed').andThen((outcome) => {
    const failed = startFailure(outcome, asked.args[0] ?? '');
    if (failed) return errAsync(failed);
    const late = execRefusal(c);
    if (late) return errAsync(late);
    const exec: FakeExecProcess = {
      sessionId: req.sessionId,
      args: asked.args,
      pid,
      tty: asked.tty,
      streams: req.streams ?? {},
      alive: true,
      ignoreSigterm: outcome.ignoreSigterm === true,
      ...(req.size ? { size: { ...req.size } } : {}),
      done: deferred<number>(),
    };
    c.execs.set(req.sessionId, exec);
    writeExecOutput(exec, outcome.stdout, outcome.stderr);
    if (!outcome.hang) endExec(exec, outcome.exitCode ?? 0);
    const exited = ResultAsync.fromSafePromise<number, LibpodError>(exec.done.promise.then(afterDelivery));
    return okAsync<OciExecSession, LibpodError>({ pid, exited });
  });
}
