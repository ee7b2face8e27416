/**
 * `ConmonOciRuntime`: the OCI runtime interface over conmon 2.x and runc (or
 * crun), driven the way libpod 4.3 drives them. See `layout.ts` for the files
 * it keeps and `docs/conmon-runc-protocol.md` for the protocol. Containers
 * outlive the Node process: conmon is their parent, records the exit in
 * `<runRoot>/exits/<id>`, which any later instance on the same runRoot reads,
 * then deletes the container from the runtime (its exit command), as
 * podman's `container cleanup` does.
 *
 * ```ts
 * const oci = new ConmonOciRuntime({ runtime: 'runc' });
 * await oci.open({ root, runRoot });
 * await oci.create({ id, name, bundlePath, spec, logPath });
 * await oci.start(id);
 * ```
 * @module
 */
import { safe } from '../../util/safe.js';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { okAsync, ResultAsync } from 'neverthrow';
import { failAsync, libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import type { TerminalSize } from '../../define/streams.js';
import { logger } from '../../util/log.js';
import type {
  OciAttachRequest,
  OciAttachSession,
  OciCheckpointRequest,
  OciContainerStatus,
  OciCreateRequest,
  OciCreateResult,
  OciExecRequest,
  OciExecSession,
  OciExitInfo,
  OciRuntime,
  OciRuntimeEnvironment,
  OciRuntimeFeatures,
  OciStopRequest,
} from '../oci-runtime.js';
import { findBinary } from './binaries.js';
import { CheckpointSupport } from './checkpoint-support.js';
import type { ConmonLogLevel } from './conmon-args.js';
import { attachContainer } from './container-attach.js';
import { createContainer } from './container-create.js';
import { containerStatus, exitInfo, killContainer, stopContainer, waitExitResult } from './container-exit.js';
import { deleteContainer } from './container-delete.js';
import { resizeTerminal } from './ctl-fifo.js';
import { execAlive, execCleanup, execResize, execStop } from './exec-control.js';
import { executeProcess } from './exec-session.js';
import { startContainer } from './container-start.js';
import { DirWatcher, isExitFileName, readExitFile } from './exit-files.js';
import { Layout } from './layout.js';
import { RuncCli } from './runc-cli.js';
import type { ConmonContext } from './runtime-context.js';

const log = logger('oci:conmon');

/** Options of {@link ConmonOciRuntime}. */
export interface ConmonOciRuntimeOptions {
  /** Which OCI runtime conmon drives (default `'runc'`). crun does not work on hybrid cgroup hosts. */
  runtime?: 'runc' | 'crun';
  /** Explicit path of the runtime binary (default: searched on `PATH`). */
  runtimePath?: string;
  /** Explicit path of conmon (default: searched on `PATH` and libexec dirs). */
  conmonPath?: string;
  /** The runtime's `--root` (default `<runRoot>/runc`, or `<runRoot>/crun`). */
  runtimeRoot?: string;
  /** conmon's `--log-level` (default `'warning'`; exec sessions never get `debug`). */
  logLevel?: ConmonLogLevel;
  /** Explicit path of criu for the checkpoint feature check. */
  criuPath?: string;
}

function notOpen<T>(): ResultAsync<T, LibpodError> {
  return failAsync('RuntimeFinalized', 'the conmon OCI runtime is not open: call open() first');
}

/** Creates `dir` (0700) when missing; refuses a world-writable one (exit files there could be forged). */
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if (!st.isDirectory()) throw libpodError('InvalidArg', `${dir} is not a directory`);
  if ((st.mode & 0o002) !== 0) throw libpodError('InvalidArg', `run root ${dir} is world-writable: use a directory only root can write to`);
}

/** The OCI runtime over conmon + runc/crun (libpod's `ConmonOCIRuntime`). */
export class ConmonOciRuntime implements OciRuntime {
  /** `'runc'` or `'crun'`. */
  readonly name: 'runc' | 'crun';
  /** Checkpoint/restore works only where `criu check` passes. */
  readonly features: OciRuntimeFeatures;
  private ctx: ConmonContext | undefined;
  private readonly listeners = new Set<(id: string) => void>();
  private readonly checkpointSupport: CheckpointSupport;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: ConmonOciRuntimeOptions = {}) {
    this.name = opts.runtime ?? 'runc';
    this.checkpointSupport = new CheckpointSupport(opts.criuPath);
    this.features = { checkpoint: () => this.checkpointSupport.check() };
  }

  private build(env: OciRuntimeEnvironment): ResultAsync<ConmonContext, LibpodError> {
    const layout = new Layout(env.runRoot);
    const runtimeRoot = this.opts.runtimeRoot ?? join(env.runRoot, this.name);
    const dirs = ResultAsync.fromPromise(
      (async () => {
        await ensurePrivateDir(env.runRoot);
        for (const d of [layout.exitsDir, layout.ociDir, runtimeRoot]) await mkdir(d, { recursive: true, mode: 0o700 });
      })(),
      (e) => toLibpodError(e, 'Internal', `preparing ${env.runRoot}`),
    );
    return dirs
      .andThen(() => ResultAsync.combine([findBinary('conmon', this.opts.conmonPath), findBinary(this.name, this.opts.runtimePath)]))
      .map(([conmonPath, runtimePath]) => ({
        runtimeName: this.name,
        conmonPath,
        runc: new RuncCli(this.name, runtimePath, runtimeRoot),
        layout,
        exits: new DirWatcher(layout.exitsDir),
        states: new DirWatcher(runtimeRoot),
        logLevel: this.opts.logLevel ?? 'warning',
        bundles: new Map<string, string>(),
        execPids: new Map<string, number>(),
      }));
  }

  /** Finds the binaries, makes `<runRoot>/exits`, `oci` and the runtime root (0700), starts the watchers. Idempotent. */
  open(env: OciRuntimeEnvironment): ResultAsync<void, LibpodError> {
    if (this.ctx && this.ctx.layout.runRoot === env.runRoot) {
      this.ctx.exits.start();
      this.ctx.states.start();
      return okAsync(undefined);
    }
    return this.build(env).map((ctx) => {
      this.stopWatching();
      this.ctx = ctx;
      this.unsubscribe = ctx.exits.subscribe((name) => this.onExitEvent(ctx, name));
      ctx.exits.start();
      ctx.states.start();
      log('opened: conmon %s, %s %s, root %s', ctx.conmonPath, this.name, ctx.runc.path, ctx.runc.root);
    });
  }

  private onExitEvent(ctx: ConmonContext, name: string): void {
    if (!isExitFileName(name) || this.listeners.size === 0) return;
    // Only real, present exit files (not conmon's temp names, not our own removals). Reading the
    // code, the bundle and the OOM marker is left to the listener's own exitStatus call.
    void readExitFile(ctx.layout.exitsDir, name).then(
      (info) => {
        if (!info) return;
        for (const fn of [...this.listeners]) {
          try {
            fn(name);
          } catch (e) {
            log('exit listener threw: %s', (e as Error).message);
          }
        }
      },
      () => undefined,
    );
  }

  private stopWatching(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.ctx?.exits.close();
    this.ctx?.states.close();
  }

  /** Stops the watchers; containers keep running. */
  close(): ResultAsync<void, LibpodError> {
    this.stopWatching();
    this.ctx = undefined;
    return okAsync(undefined);
  }

  /** Calls `listener(id)` whenever an exit file appears in `<runRoot>/exits`. */
  watchExits(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private with<T>(fn: (ctx: ConmonContext) => ResultAsync<T, LibpodError>): ResultAsync<T, LibpodError> {
    const ctx = this.ctx;
    // The interface promises never to throw or reject, whatever the input.
    return ctx ? safe(() => fn(ctx)) : notOpen<T>();
  }

  /** conmon + `runc create` (or `restore`); the container is `created` (restored: running). */
  create(req: OciCreateRequest): ResultAsync<OciCreateResult, LibpodError> {
    return this.with((ctx) => createContainer(ctx, req));
  }

  /** `runc start` (Ok too when the container ran and exited before runc returned). */
  start(id: string): ResultAsync<void, LibpodError> {
    return this.with((ctx) => startContainer(ctx, id));
  }

  /** `runc kill [--all] <id> <signal>`; signal 0 only checks. A container that is not running is `OCIRuntime`. */
  kill(id: string, signal: number, all: boolean): ResultAsync<void, LibpodError> {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64) return failAsync('InvalidArg', `invalid signal ${signal}: not a signal number between 0 and 64`);
    return this.with((ctx) => killContainer(ctx, id, signal, all));
  }

  /** Stop signal, wait up to `timeout` s for the exit file, SIGKILL, wait 5 s. */
  stop(id: string, req: OciStopRequest): ResultAsync<OciExitInfo, LibpodError> {
    return this.with((ctx) => stopContainer(ctx, id, req));
  }

  /** `runc pause`. */
  pause(id: string): ResultAsync<void, LibpodError> {
    return this.with((ctx) => ctx.runc.pause(id));
  }

  /** `runc resume`. */
  unpause(id: string): ResultAsync<void, LibpodError> {
    return this.with((ctx) => ctx.runc.resume(id));
  }

  /** `runc delete --force`, then the exit file, `oci/<id>` and conmon's bundle files. */
  delete(id: string): ResultAsync<void, LibpodError> {
    return this.with((ctx) => deleteContainer(ctx, id));
  }

  /** `runc state` plus the exit file. */
  status(id: string): ResultAsync<OciContainerStatus, LibpodError> {
    return this.with((ctx) => containerStatus(ctx, id));
  }

  /** The exit file, if present. */
  exitStatus(id: string): ResultAsync<OciExitInfo | undefined, LibpodError> {
    return this.with((ctx) => ResultAsync.fromPromise(exitInfo(ctx, id), (e) => toLibpodError(e, 'Internal', `reading exit file of ${id}`)));
  }

  /** Waits up to `timeoutMs` for the exit file. */
  waitExit(id: string, timeoutMs: number): ResultAsync<OciExitInfo | undefined, LibpodError> {
    return this.with((ctx) => waitExitResult(ctx, id, timeoutMs));
  }

  /** Connects to `<bundle>/attach` and copies streams. */
  attach(id: string, req: OciAttachRequest): ResultAsync<OciAttachSession, LibpodError> {
    return this.with(() => attachContainer(id, req));
  }

  /** `1 <h> <w>` on `<bundle>/ctl`. */
  resize(_id: string, bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError> {
    return this.with(() => resizeTerminal(bundlePath, size));
  }

  /** An exec session through conmon `--exec-attach`. */
  execute(id: string, req: OciExecRequest): ResultAsync<OciExecSession, LibpodError> {
    return this.with((ctx) => executeProcess(ctx, id, req));
  }

  /** Whether the session's process still runs. */
  execAlive(id: string, sessionId: string): ResultAsync<boolean, LibpodError> {
    return this.with((ctx) => execAlive(ctx, id, sessionId));
  }

  /** SIGTERM, SIGKILL after `timeout` s. */
  execStop(id: string, sessionId: string, timeout: number): ResultAsync<void, LibpodError> {
    return this.with((ctx) => execStop(ctx, id, sessionId, timeout));
  }

  /** Removes the session's directory (`<runRoot>/oci/<id>/exec/<sessionId>`; the bundle is not used). */
  execCleanup(id: string, sessionId: string, _bundlePath: string): ResultAsync<void, LibpodError> {
    return this.with((ctx) => execCleanup(ctx, id, sessionId));
  }

  /** Resizes the session's terminal. */
  execResize(id: string, sessionId: string, _bundlePath: string, size: TerminalSize): ResultAsync<void, LibpodError> {
    return this.with((ctx) => execResize(ctx, id, sessionId, size));
  }

  /** `runc checkpoint --image-path ... --work-path <bundle>`. */
  checkpoint(id: string, req: OciCheckpointRequest): ResultAsync<void, LibpodError> {
    return this.with((ctx) =>
      ctx.runc.checkpoint(id, { imagePath: req.imagePath, workPath: req.bundlePath, leaveRunning: req.leaveRunning, tcpEstablished: req.tcpEstablished }),
    );
  }
}

