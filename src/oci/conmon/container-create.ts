/**
 * Creating a container through conmon (libpod `createOCIContainer`):
 * spawn, one start byte, the sync line with the init pid (or the runtime's
 * error), then read `conmon.pid` and let go of the monitor. conmon waits for
 * the start byte before it does anything, so the runtime files of an earlier
 * container of that id are cleared, and the caller finishes `config.json`,
 * while it starts up.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { logger } from '../../util/log.js';
import { STDIN_ANNOTATION, type OciCreateRequest, type OciCreateResult } from '../oci-runtime.js';
import { createConmonArgs, withExitHook } from './conmon-args.js';
import { launchConmon, type ConmonLaunch } from './conmon-launch.js';
import { conmonFailure } from './conmon-failure.js';
import { removeConmonFiles } from './conmon-files.js';
import { deleteContainer } from './container-delete.js';
import { delay, readPidFile } from './pids.js';
import { reservePorts, type PortReservation } from './port-reservation.js';
import { RuncCli } from './runc-cli.js';
import { nameError, rememberBundle, type ConmonContext } from './runtime-context.js';

const log = logger('oci:conmon');

/** libpod's `ContainerCreateTimeout`: how long conmon may take to report the pid. */
export const CREATE_TIMEOUT_MS = 240_000;


async function handshake(ctx: ConmonContext, req: OciCreateRequest, launch: ConmonLaunch): Promise<OciCreateResult> {
  launch.sendStart();
  const msg = await launch.sync.next(CREATE_TIMEOUT_MS);
  if (msg === undefined || msg.data < 0) {
    const failure = await conmonFailure(ctx, launch, ctx.layout.ociLog(req.id), msg?.message ?? (msg ? 'container create failed' : undefined), 'container create');
    launch.release();
    // Whatever runc left; this also waits for conmon, whose exit command must not meet a new create of this id.
    const cleanup = await deleteContainer(ctx, req.id);
    throw cleanup.isErr() ? failure.withRelated(cleanup.error) : failure;
  }
  await Promise.race([launch.firstExit, delay(5_000)]);
  const monitorPid = (await readPidFile(ctx.layout.conmonPidFile(req.id))) ?? 0;
  if (monitorPid === 0) log('no conmon pid file for container %s', req.id);
  launch.release();
  log('container %s created: pid %d, conmon %d', req.id, msg.data, monitorPid);
  return { pid: msg.data, monitorPid };
}

function conmonArgsFor(ctx: ConmonContext, req: OciCreateRequest): string[] {
  return createConmonArgs({
    id: req.id,
    cuuid: req.id,
    name: req.name,
    runtimePath: ctx.runc.path,
    runtimeArgs: ctx.runc.globalArgs(),
    bundlePath: req.bundlePath,
    pidFile: ctx.layout.pidFile(req.id),
    exitDir: ctx.layout.exitsDir,
    logDriver: `k8s-file:${req.logPath}`,
    logLevel: ctx.logLevel,
    ociLogPath: ctx.layout.ociLog(req.id),
    terminal: req.spec.process?.terminal === true,
    stdin: req.spec.annotations?.[STDIN_ANNOTATION] === 'true',
    conmonPidFile: ctx.layout.conmonPidFile(req.id),
    ...(req.restoreFrom !== undefined ? { restoreFrom: req.restoreFrom, restoreTcpEstablished: req.restoreTcpEstablished === true } : {}),
    exitCommand: withExitHook([ctx.runc.path, ...ctx.runc.globalArgs(), ...RuncCli.deleteArgs(req.id)], req.exitHook),
  });
}

/** Clears what an earlier container of this id left, and records the bundle. */
async function prepareFiles(ctx: ConmonContext, req: OciCreateRequest): Promise<void> {
  try {
    await removeConmonFiles(ctx, req.id, req.bundlePath);
    await rememberBundle(ctx, req.id, req.bundlePath);
  } catch (e) {
    throw toLibpodError(e, 'Internal', `preparing runtime files of container ${req.id}`);
  }
}

/** Resolves when the caller's bundle is written; rejects with its error. */
async function bundleWritten(req: OciCreateRequest): Promise<void> {
  const written = await (req.bundleReady ?? okAsync(undefined));
  if (written.isErr()) throw written.error;
}

/**
 * Refuses a known id, then, while conmon starts (it waits for the start byte
 * first), clears the old files and lets the caller finish the bundle; the
 * start byte goes once all are done.
 */
async function create(ctx: ConmonContext, req: OciCreateRequest, args: readonly string[]): Promise<OciCreateResult> {
  // Checked first: clearing the files would break a live container's attach socket and FIFOs.
  if (await ctx.runc.knows(req.id)) throw libpodError('CtrExists', `${ctx.runtimeName}: container with id ${req.id} already exists`);
  const prepared = Promise.allSettled([prepareFiles(ctx, req), bundleWritten(req)]);
  let ports: PortReservation | undefined;
  if (req.reservePorts !== undefined && req.reservePorts.length > 0) {
    try {
      ports = await reservePorts(req.reservePorts);
    } catch (e) {
      await prepared;
      throw e;
    }
  }
  let launch: ConmonLaunch;
  try {
    launch = launchConmon({ conmonPath: ctx.conmonPath, args, cwd: req.bundlePath, attachPipe: false, ...(ports ? { extraFds: ports.fds } : {}) });
  } catch (e) {
    await prepared;
    throw toLibpodError(e, 'OCIRuntime', `cannot run conmon ${ctx.conmonPath}`);
  } finally {
    // conmon has its copies once spawned (or none: it failed); ours are not needed either way.
    await ports?.close();
  }
  const failed = (await prepared).find((r) => r.status === 'rejected');
  if (failed) {
    launch.abort();
    throw failed.reason;
  }
  return handshake(ctx, req, launch);
}

/** Creates (or, with `restoreFrom`, restores) a container; its state is `created` (restore: running). */
export function createContainer(ctx: ConmonContext, req: OciCreateRequest): ResultAsync<OciCreateResult, LibpodError> {
  const bad = nameError('container id', req.id);
  if (bad) return errAsync(bad);
  const args = conmonArgsFor(ctx, req);
  return ResultAsync.fromPromise(create(ctx, req, args), (e) => toLibpodError(e, 'OCIRuntime', `creating container ${req.id}`));
}
