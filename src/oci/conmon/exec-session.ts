/**
 * Running a process in a container through conmon (libpod `ExecContainer`
 * with `--exec-attach`, reference §5.3):
 *
 * 1. `<bundle>/<session>/` and `exit/`, the process JSON, conmon with fds 3/4/5;
 * 2. start byte 1; wait for `{"data": 0}` on the attach pipe (socket ready);
 * 3. resize (tty), connect the attach socket, start copying;
 * 4. start byte 2 (only now: the start pipe is a stream, two early bytes may
 *    be read as one); sync message 1 = the exec pid or the runtime's error;
 * 5. `exited`: after the output hit EOF and sync message 2 came, the code
 *    from `exit/<id>` (waiting up to 5 s), else message 2's.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { err, errAsync, ok, ResultAsync, type Result } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import type { AttachEnd } from '../../define/streams.js';
import { logger } from '../../util/log.js';
import type { OciExecRequest, OciExecSession } from '../oci-runtime.js';
import { createAttachPump, parseDetachKeys, type AttachPump } from './attach-copy.js';
import { connectAttach } from './attach-socket.js';
import { execConmonArgs } from './conmon-args.js';
import { launchConmon, type ConmonLaunch } from './conmon-launch.js';
import { resizeTerminal } from './ctl-fifo.js';
import { removeExecDir } from './exec-control.js';
import { readExitFile, waitFor } from './exit-files.js';
import type { ExecPaths } from './layout.js';
import { conmonFailure } from './conmon-failure.js';
import { execKey, nameError, type ConmonContext } from './runtime-context.js';

const log = logger('oci:conmon');

/** How long conmon may take for each handshake step. */
const STEP_TIMEOUT_MS = 240_000;
/** How long the exit file may lag behind the end of the output (libpod: 5 s). */
const EXIT_FILE_WAIT_MS = 5_000;

async function prepare(ctx: ConmonContext, id: string, req: OciExecRequest, paths: ExecPaths): Promise<string[]> {
  await mkdir(paths.exitDir, { recursive: true, mode: 0o755 });
  const specPath = join(paths.dir, `exec-process-${randomBytes(6).toString('hex')}`);
  const terminal = req.process.terminal === true;
  // The initial size also in the process (libpod's ConsoleSize): runc sets it on the new pty before
  // the process runs, whereas the ctl resize can reach conmon only after the process started.
  const consoleSize = terminal && req.size ? { consoleSize: { height: req.size.height, width: req.size.width } } : {};
  await writeFile(specPath, JSON.stringify({ ...req.process, terminal, ...consoleSize }), { mode: 0o600 });
  const level = ctx.logLevel === 'debug' || ctx.logLevel === 'trace' ? 'warning' : ctx.logLevel;
  return execConmonArgs({
    id,
    cuuid: req.sessionId,
    name: id,
    runtimePath: ctx.runc.path,
    runtimeArgs: ctx.runc.globalArgs(),
    bundlePath: paths.dir,
    pidFile: paths.pidFile,
    exitDir: paths.exitDir,
    logDriver: 'none',
    logLevel: level,
    ociLogPath: paths.ociLog,
    terminal,
    stdin: req.streams?.stdin !== undefined,
    processSpecPath: specPath,
  });
}


/** Steps 2-4; resolves with the exec pid. */
async function handshake(ctx: ConmonContext, _id: string, req: OciExecRequest, paths: ExecPaths, launch: ConmonLaunch, pump: AttachPump): Promise<number> {
  launch.sendStart();
  const ready = await launch.attach?.next(STEP_TIMEOUT_MS);
  if (ready === undefined || ready.data < 0) {
    const first = ready ?? (await launch.sync.next(1_000));
    throw await conmonFailure(ctx, launch, paths.ociLog, first?.message, 'exec');
  }
  if (req.process.terminal === true && req.size) {
    const resized = await resizeTerminal(paths.dir, req.size);
    if (resized.isErr()) log('exec %s: initial resize failed: %s', req.sessionId, resized.error.message);
  }
  pump.bind(await connectAttach(paths.dir, pump.handlers));
  launch.sendStart();
  const started = await launch.sync.next(STEP_TIMEOUT_MS);
  if (started === undefined || started.data <= 0) throw await conmonFailure(ctx, launch, paths.ociLog, started?.message, 'exec');
  return started.data;
}

/** Step 5: the exit code once output and process are both done. */
async function finish(id: string, paths: ExecPaths, launch: ConmonLaunch, pump: AttachPump): Promise<Result<number, LibpodError>> {
  const end: Result<AttachEnd, LibpodError> = await pump.done;
  // After a detach nobody waits on the output: let Node exit if it wants to.
  if (end.isOk() && end.value === 'detached') launch.unref();
  let second: Awaited<ReturnType<typeof launch.sync.next>>;
  let file: Awaited<ReturnType<typeof readExitFile>>;
  try {
    second = await launch.sync.next(2 ** 31 - 1);
    file = await waitFor(() => readExitFile(paths.exitDir, id), { timeoutMs: EXIT_FILE_WAIT_MS, dir: paths.exitDir, name: id });
  } finally {
    // Whatever happened, the pipes must not keep Node alive.
    launch.release();
  }
  if (end.isErr()) return err(end.error);
  if (file) return ok(file.exitCode);
  if (second && second.data >= 0) return ok(second.data);
  log('exec %s: no exit code (%s)', paths.sessionId, second?.message ?? 'conmon gave none');
  return ok(-1);
}

/** Starts `req.process` in container `id`; `exited` settles after its output was delivered. */
export function executeProcess(ctx: ConmonContext, id: string, req: OciExecRequest): ResultAsync<OciExecSession, LibpodError> {
  const bad = nameError('container id', id) ?? nameError('exec session id', req.sessionId);
  if (bad) return errAsync(bad);
  const keys = parseDetachKeys(req.detachKeys);
  if (keys.isErr()) return errAsync(keys.error);
  if (req.process.args.length === 0) return errAsync(libpodError('InvalidArg', 'must provide a command to execute'));
  if (!ctx.bundles.has(id)) ctx.bundles.set(id, req.bundlePath);
  const paths = ctx.layout.execPaths(id, req.sessionId);
  const run = async (): Promise<OciExecSession> => {
    let args: string[];
    try {
      args = await prepare(ctx, id, req, paths);
    } catch (e) {
      await removeExecDir(paths.dir).catch(() => undefined);
      throw toLibpodError(e, 'Internal', `preparing exec session ${req.sessionId}`);
    }
    const launch = launchConmon({ conmonPath: ctx.conmonPath, args, cwd: paths.dir, attachPipe: true });
    const pump = createAttachPump(req.streams ?? {}, keys.value, req.process.terminal === true);
    let pid: number;
    try {
      pid = await handshake(ctx, id, req, paths, launch, pump);
    } catch (e) {
      pump.close();
      launch.release();
      await removeExecDir(paths.dir).catch(() => undefined);
      throw e;
    }
    ctx.execPids.set(execKey(id, req.sessionId), pid);
    log('exec session %s of %s: pid %d', req.sessionId, id, pid);
    const exited = new ResultAsync(finish(id, paths, launch, pump).catch((e: unknown) => err(toLibpodError(e, 'Internal', `exec session ${req.sessionId}`))));
    return { pid, exited };
  };
  return ResultAsync.fromPromise(run(), (e) => toLibpodError(e, 'OCIRuntime', `exec in container ${id}`));
}
