/**
 * `ctr.exec()` (libpod `Exec`): start a process in a running container under
 * the lock, record the session, release the lock while it runs, then take
 * the lock again to drop the session. A command that cannot be found or
 * invoked resolves to exit code 127 / 126, as shells and podman do.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, improper, type LibpodError } from '../define/errors.js';
import { generateExecSessionId } from '../define/ids.js';
import { allows } from '../define/states.js';
import type { AttachStreams, TerminalSize } from '../define/streams.js';
import type { OciExecSession } from '../oci/oci-runtime.js';
import type { OciSpec } from '../oci/oci-spec-types.js';
import { execProcess } from './oci-spec.js';
import { pathsOf, queueEvent, save, type CtrSession } from './session.js';

/** Exit code of a command that could not be found (as shells and podman). */
export const EXEC_NOT_FOUND = 127;
/** Exit code of a command that could not be invoked (permission denied). */
export const EXEC_CANNOT_INVOKE = 126;

/** Options of `ctr.exec`. */
export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** User (`uid[:gid]` or names from the container's /etc/passwd). */
  user?: string;
  /** Working directory (absolute). */
  workDir?: string;
  /** Allocate a terminal. */
  tty?: boolean;
  /** All capabilities. */
  privileged?: boolean;
  /** Streams to attach; output is discarded when absent. */
  streams?: AttachStreams;
  /** Detach keys for `streams.stdin`. */
  detachKeys?: string;
  /** Initial terminal size, with `tty`. */
  size?: TerminalSize;
}

/** The result of `ctr.exec`. */
export interface ExecResult {
  exitCode: number;
}

/** A started exec: the session id and the running process, or the exit code of a failed invocation. */
export type ExecStart = { sessionId: string; session: OciExecSession } | { exitCode: number };

function readBaseSpec(s: CtrSession): ResultAsync<OciSpec, LibpodError> {
  return attempt(async () => JSON.parse(await readFile(pathsOf(s).configJson, 'utf8')) as OciSpec, 'Internal', `reading the spec of container ${s.rec.id}`);
}

/** Maps a failure to start the process to 127/126 when it is one; other failures stay errors. */
function invocationExitCode(e: LibpodError): number | undefined {
  if (e.code === 'OCIRuntimeNotFound') return EXEC_NOT_FOUND;
  if (e.code === 'OCIRuntime' && /permission denied|not executable|cannot execute/i.test(e.message)) return EXEC_CANNOT_INVOKE;
  return undefined;
}

/** Phase 1, under the lock: start the process and record the session. */
export function execStart(s: CtrSession, command: string[], opts: ExecOptions): ResultAsync<ExecStart, LibpodError> {
  if (!allows('exec', s.rec.state.state)) {
    return improper(`cannot exec into container ${s.rec.id} that is not running`);
  }
  const sessionId = generateExecSessionId();
  return readBaseSpec(s)
    .andThen((spec) => {
      const proc = execProcess(spec.process ?? { user: { uid: 0, gid: 0 }, args: [], cwd: '/' }, {
        command,
        env: opts.env,
        user: opts.user,
        workDir: opts.workDir,
        tty: opts.tty ?? false,
        privileged: (opts.privileged ?? false) || s.rec.config.privileged,
        rootfsPath: s.rec.state.mountPoint ?? s.rec.config.rootfs ?? '',
      });
      if (proc.isErr()) return errAsync(proc.error);
      return s.ctx.oci.execute(s.rec.id, {
        sessionId,
        bundlePath: pathsOf(s).bundlePath,
        process: proc.value,
        streams: opts.streams,
        detachKeys: opts.detachKeys,
        size: opts.size,
      });
    })
    .map((session): ExecStart => ({ sessionId, session }))
    .orElse((e) => {
      const code = invocationExitCode(e);
      return code === undefined ? errAsync(e) : okAsync<ExecStart, LibpodError>({ exitCode: code });
    })
    .andThen((started) => {
      if (!('sessionId' in started)) return okAsync(started);
      s.rec.state.execSessions[sessionId] = {
        id: sessionId,
        command: [...command],
        tty: opts.tty ?? false,
        state: 'running',
        pid: started.session.pid,
        startedAt: new Date().toISOString(),
      };
      queueEvent(s, 'exec', { attributes: { execID: sessionId } });
      return save(s).map(() => started);
    });
}

/** Phase 3, under the lock again: drop the session and clean its files. */
export function execFinish(s: CtrSession, sessionId: string, exitCode: number): ResultAsync<ExecResult, LibpodError> {
  delete s.rec.state.execSessions[sessionId];
  queueEvent(s, 'exec_died', { exitCode, attributes: { execID: sessionId } });
  return s.ctx.oci
    .execCleanup(s.rec.id, sessionId, pathsOf(s).bundlePath)
    .orElse(() => okAsync(undefined))
    .andThen(() => save(s))
    .map(() => ({ exitCode }));
}
