/**
 * `ctr.inspect()`: config + state + mounts + exec sessions, times as `Date`.
 * @module
 */
import { okAsync, type ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { ContainerInspect, InspectMount } from '../define/inspect.js';
import type { ContainerRecord } from '../define/records.js';
import { networkSettingsOf } from './networking.js';
import { dirSize } from './rootfs.js';
import { imageContainerSizes } from './image-rootfs.js';
import { volumeMountsFor } from './storage.js';
import { pathsOf } from './session.js';
import type { CtrSession } from './session.js';

function toDate(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso);
}

function mountsOf(rec: ContainerRecord, volumeDirs: ReadonlyMap<string, string>): InspectMount[] {
  const binds: InspectMount[] = rec.config.mounts.map((m) => ({
    type: m.type ?? 'bind',
    source: m.source,
    destination: m.destination,
    options: m.options ?? [],
  }));
  const vols: InspectMount[] = rec.config.volumes.map((v) => ({
    type: 'volume',
    name: v.name,
    source: volumeDirs.get(v.name) ?? v.name,
    destination: v.dest,
    options: v.options ?? [],
  }));
  return [...binds, ...vols];
}

/** Builds the inspect data of the locked container (sizes with `size: true`). */
export function inspectVerb(s: CtrSession, opts: { size?: boolean } = {}): ResultAsync<ContainerInspect, LibpodError> {
  const { rec } = s;
  const st = rec.state;
  const paths = pathsOf(s);
  return volumeMountsFor(s).andThen((vols) => {
    const volumeDirs = new Map(rec.config.volumes.map((v, i) => [v.name, vols[i]?.source ?? v.name]));
    const base: ContainerInspect = {
      id: rec.id,
      name: rec.name,
      state: st.state,
      pid: st.pid,
      monitorPid: st.monitorPid,
      exitCode: st.exitCode,
      oomKilled: st.oomKilled,
      restartCount: st.restartCount,
      createdAt: new Date(rec.createdAt),
      startedAt: toDate(st.startedAt),
      finishedAt: toDate(st.finishedAt),
      config: structuredClone(rec.config),
      mounts: mountsOf(rec, volumeDirs),
      execSessions: Object.values(st.execSessions).map((e) => ({
        id: e.id,
        command: [...e.command],
        running: e.state === 'running',
        pid: e.pid,
        ...(e.exitCode === undefined ? {} : { exitCode: e.exitCode }),
      })),
      dependencies: [...rec.dependencyIds],
      pod: rec.podId,
      mountPoint: st.mountPoint,
      ociRuntime: s.ctx.oci.name,
      bundlePath: paths.bundlePath,
      logPath: paths.logPath,
      checkpointedAt: toDate(st.checkpointedAt),
      restoredAt: toDate(st.restoredAt),
      networkSettings: networkSettingsOf(rec),
      ...(st.health ? { health: structuredClone(st.health) } : {}),
    };
    if (!opts.size) return okAsync(base);
    if (rec.config.image !== undefined) return imageContainerSizes(s).map((sizes) => ({ ...base, ...sizes }));
    const rw = rec.config.rootfsOverlay ? dirSize(paths.overlayUpper) : okAsync<number | undefined, LibpodError>(undefined);
    return dirSize(rec.config.rootfs ?? '').andThen((rootFsSize) => rw.map((rwSize) => ({ ...base, rootFsSize, rwSize })));
  });
}
