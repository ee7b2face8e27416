/**
 * The steps that talk to the OCI runtime for one container: create (libpod
 * `init`: spec, hooks, `saveSpec`, `CreateContainer`), start, and the
 * poststop hooks after delete.
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, improper, type LibpodError } from '../define/errors.js';
import { inState } from '../define/states.js';
import type { PodNamespace } from '../define/records.js';
import type { OciCreateResult } from '../oci/oci-runtime.js';
import type { OciHook, OciSpec } from '../oci/oci-spec-types.js';
import { logger } from '../util/log.js';
import { runPoststopHooks, runPrecreateHooks, selectHooks } from './hooks.js';
import { networkForSpec } from './networking.js';
import { generateSpec, readHostRlimits } from './oci-spec.js';
import { chooseSeccompProfile } from './seccomp.js';
import { forgetPendingRestart } from './restart-backoff.js';
import { ensureWorkDir } from './workdir.js';
import { pathsOf, queueEvent, save, type CtrSession } from './session.js';
import { volumeMountsFor } from './storage.js';

const log = logger('container:oci');

/** What a pod gives its containers: the infra's namespaces to join, and the infra's hostname (the pod's). */
interface PodSetting {
  namespacePaths: Partial<Record<PodNamespace, string>>;
  hostname?: string;
}

/**
 * A pod member joins its infra container's namespaces, for the pod's shared
 * kinds; the infra container itself gets the pod's hostname (podman: the pod name).
 */
function podSetting(s: CtrSession): ResultAsync<PodSetting, LibpodError> {
  const podId = s.rec.podId;
  if (!podId) return okAsync({ namespacePaths: {} });
  return s.ctx.index.getPod(podId).andThen((pod) => {
    if (s.rec.isInfra) return okAsync<PodSetting, LibpodError>({ namespacePaths: {}, ...(pod.hostname ? { hostname: pod.hostname } : {}) });
    if (!pod.infraContainerId || pod.share.length === 0) return okAsync<PodSetting, LibpodError>({ namespacePaths: {} });
    return s.ctx.index.getContainer(pod.infraContainerId).andThen((infra) => {
      // libpod `namespacePath`: only a running (or paused) container has namespaces to join. Never
      // fall back to fresh namespaces: the member would run outside its pod.
      if (!inState(infra.state.state, 'running', 'paused') || infra.state.pid <= 0) {
        return improper(`cannot get namespace path unless container ${infra.id} is running`);
      }
      const namespacePaths: Partial<Record<PodNamespace, string>> = {};
      for (const ns of pod.share) namespacePaths[ns] = `/proc/${infra.state.pid}/ns/${ns}`;
      return okAsync<PodSetting, LibpodError>({ namespacePaths });
    });
  });
}

/** What {@link buildSpec} gives the create: the spec, hooks, and networking's deferred half. */
interface BuiltSpec {
  spec: OciSpec;
  poststop: OciHook[];
  exitHook?: string[];
  wire?: () => ResultAsync<void, LibpodError>;
}

/**
 * Builds the spec (plus precreate hooks) for the session's container. With
 * `deferWiring`, networking's second half is left to the caller (`wire`).
 */
function buildSpec(s: CtrSession, deferWiring: boolean): ResultAsync<BuiltSpec, LibpodError> {
  const { rec } = s;
  const rootfsPath = rec.state.mountPoint ?? rec.config.rootfs ?? '';
  return ResultAsync.combine([podSetting(s), volumeMountsFor(s)]).andThen(([pod, volumes]) => networkForSpec(s, deferWiring).andThen((net): ResultAsync<BuiltSpec, LibpodError> => {
    const volumeMounts = [...volumes, ...net.mounts];
    const hostname = pod.hostname ?? net.hostname;
    const seccompProfile = chooseSeccompProfile(rec.config, { required: s.ctx.oci.features.runsProcesses !== false });
    if (seccompProfile.isErr()) return errAsync(seccompProfile.error);
    const spec = generateSpec({
      id: rec.id,
      config: rec.config,
      rootfsPath,
      namespacePaths: net.netnsPath ? { ...pod.namespacePaths, net: net.netnsPath } : pod.namespacePaths,
      ...(hostname ? { hostname } : {}),
      volumeMounts,
      hostRlimits: readHostRlimits(),
      ...(seccompProfile.value ? { seccompProfile: seccompProfile.value } : {}),
    });
    if (spec.isErr()) return errAsync(spec.error);
    const { process: proc, mounts } = spec.value;
    const workDir = ensureWorkDir(rootfsPath, proc?.cwd ?? '/', (mounts ?? []).map((m) => m.destination), proc?.user ?? { uid: 0, gid: 0 });
    if (workDir.isErr()) return errAsync(workDir.error);
    const exitHook = net.exitHook ? { exitHook: net.exitHook } : {};
    if (!rec.config.hooksDir) return okAsync({ spec: spec.value, poststop: [], ...exitHook, ...(net.wire ? { wire: net.wire } : {}) });
    return selectHooks(rec.config.hooksDir, spec.value, rec.config.mounts.length > 0).andThen((hooks) =>
      runPrecreateHooks(hooks.precreate ?? [], spec.value).map((filtered) => ({ spec: filtered, poststop: hooks.poststop ?? [], ...exitHook })),
    );
  }));
}

/** A failure, reported once `pending` has settled too (whatever its outcome). */
function afterSettled<T>(pending: ResultAsync<unknown, LibpodError>, e: LibpodError): ResultAsync<T, LibpodError> {
  return ResultAsync.fromSafePromise(Promise.resolve(pending)).andThen(() => errAsync(e));
}

/**
 * The create and networking's deferred half, once both settled: a create
 * whose networking failed is deleted from the runtime (networking released
 * itself); a failed create leaves networking set up for the caller's
 * cleanup to tear down, as when it failed after a whole setup.
 */
function bothSettled(s: CtrSession, created: ResultAsync<OciCreateResult, LibpodError>, wired: ResultAsync<void, LibpodError>): ResultAsync<OciCreateResult, LibpodError> {
  return ResultAsync.fromSafePromise(Promise.all([created, wired])).andThen(([c, w]) => {
    if (c.isErr()) return errAsync(c.error);
    if (w.isErr()) return s.ctx.oci.delete(s.rec.id).orElse(() => okAsync(undefined)).andThen(() => errAsync(w.error));
    return okAsync(c.value);
  });
}

/**
 * Creates the container in the OCI runtime (libpod `init`): generates and
 * saves the spec (`saveSpec`, written while the runtime starts its monitor:
 * `bundleReady`), calls `create`, and records state `created`.
 */
export function createInRuntime(s: CtrSession, retainRetries: boolean, restoreFrom?: string, restoreTcpEstablished = false): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  // netavark wires the namespace while conmon and runc create the container (nothing runs in it
  // before the start), unless OCI hooks may look at it during the create or a restore runs the
  // process at once: then first, as libpod does.
  const deferWiring = !s.rec.config.hooksDir && !restoreFrom;
  return buildSpec(s, deferWiring)
    .andThen(({ spec, poststop, exitHook, wire }) =>
      attempt(() => mkdir(paths.bundlePath, { recursive: true, mode: 0o700 }), 'Internal', `creating the bundle of container ${s.rec.id}`).andThen(() => {
        const written = attempt(() => writeFile(paths.configJson, JSON.stringify(spec), { mode: 0o644 }), 'Internal', `writing runtime spec for container ${s.rec.id}`);
        const create = () =>
          s.ctx.oci.create({
            id: s.rec.id,
            name: s.rec.name,
            bundlePath: paths.bundlePath,
            spec,
            bundleReady: written,
            logPath: paths.logPath,
            ...(s.rec.state.network?.ports.length ? { reservePorts: s.rec.state.network.ports } : {}),
            ...(restoreFrom ? { restoreFrom, restoreTcpEstablished } : {}),
            ...(exitHook ? { exitHook } : {}),
          });
        // The record says the runtime has no such container: one it has anyway was left by a
        // crash between an earlier create and its save. Remove it and create again.
        const wired = wire?.();
        const created = create()
          .orElse((e) => (e.code === 'CtrExists' ? s.ctx.oci.delete(s.rec.id).andThen(create) : errAsync(e)))
          .orElse((e) => afterSettled<OciCreateResult>(written, e));
        return (wired ? bothSettled(s, created, wired) : created).map((c) => ({ created: c, poststop }));
      }),
    )
    .andThen(({ created, poststop }) => {
      log('created %s in the OCI runtime (pid %d)', s.rec.id, created.pid);
      const st = s.rec.state;
      st.state = 'created';
      st.pid = created.pid;
      st.monitorPid = created.monitorPid;
      st.exitCode = 0;
      st.exited = false;
      st.oomKilled = false;
      st.stoppedByUser = false;
      st.restartPolicyMatch = false;
      if (!retainRetries) {
        st.restartCount = 0;
        delete st.restartBackoffMs; // a user's start begins a new restart history (moby ResetRestartManager)
      }
      forgetPendingRestart(s);
      if (poststop.length > 0) st.poststopHooks = poststop;
      else delete st.poststopHooks;
      queueEvent(s, 'init');
      return save(s);
    });
}

/**
 * Starts a created container (libpod `start`). The start time is taken
 * before the runtime is asked: the process may run, and even exit, before
 * `runc start` returns, and its exit must not come before its start.
 */
export function startInRuntime(s: CtrSession): ResultAsync<void, LibpodError> {
  const startedAt = new Date().toISOString();
  return s.ctx.oci.start(s.rec.id).andThen(() => {
    s.rec.state.state = 'running';
    s.rec.state.startedAt = startedAt;
    queueEvent(s, 'start');
    return save(s);
  });
}

/** Runs the poststop hooks recorded at create (libpod `postDeleteHooks`); failures are logged, as libpod does. */
export function runPoststop(s: CtrSession): ResultAsync<void, LibpodError> {
  const hooks = s.rec.state.poststopHooks;
  if (!hooks || hooks.length === 0) return okAsync(undefined);
  const state = { ociVersion: '1.0.2', id: s.rec.id, status: 'stopped', bundle: pathsOf(s).bundlePath, annotations: s.rec.config.annotations };
  return runPoststopHooks(hooks, JSON.stringify(state)).map((errors) => {
    for (const e of errors) log('container %s: poststop hook: %s', s.rec.id, e.message);
  });
}

/** Removes the container's directories (static and volatile). */
export function removeContainerDirs(s: CtrSession): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  return attempt(async () => {
    await rm(paths.staticDir, { recursive: true, force: true });
    await rm(paths.runDir, { recursive: true, force: true });
  }, 'Internal', `removing directories of container ${s.rec.id}`);
}
