/**
 * Builders of valid state records for tests of stores and engines: full
 * defaults, overridable field by field.
 * @module
 */
import { DEFAULT_STOP_TIMEOUT, type ContainerConfig } from '../define/config.js';
import { generateId, shortId } from '../define/ids.js';
import {
  initialContainerState,
  type ContainerRecord,
  type ContainerStateRecord,
  type PodRecord,
  type VolumeRecord,
} from '../define/records.js';

/** What {@link makeContainerRecord} takes: any record field, with `config` and `state` partial. */
export type ContainerRecordOverrides = Partial<Omit<ContainerRecord, 'config' | 'state'>> & {
  config?: Partial<ContainerConfig>;
  state?: Partial<ContainerStateRecord>;
};

/** A complete {@link ContainerConfig} with the engine's defaults. */
export function defaultContainerConfig(name: string, overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name,
    rootfs: '/var/lib/libpod-ts/rootfs/busybox',
    rootfsOverlay: false,
    command: ['/bin/sh', '-c', 'sleep 1000'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm' },
    workDir: '/',
    terminal: false,
    stdin: false,
    labels: {},
    annotations: {},
    stopSignal: 'SIGTERM',
    stopTimeout: DEFAULT_STOP_TIMEOUT,
    restartPolicy: 'no',
    restartRetries: 0,
    dependencies: [],
    volumes: [],
    mounts: [],
    network: 'none',
    privileged: false,
    capAdd: [],
    capDrop: [],
    readOnly: false,
    ...overrides,
  };
}

/**
 * A valid container record: a fresh id (unless given), a name derived from it
 * (`ctr-<short id>`), default config and the initial `configured` state.
 *
 * @example
 * ```ts
 * const web = makeContainerRecord({ name: 'web', config: { labels: { app: 'web' } } });
 * ```
 */
export function makeContainerRecord(overrides: ContainerRecordOverrides = {}): ContainerRecord {
  const id = overrides.id ?? generateId();
  const name = overrides.name ?? overrides.config?.name ?? `ctr-${shortId(id)}`;
  const { config, state, ...rest } = overrides;
  return {
    createdAt: new Date().toISOString(),
    dependencyIds: [],
    ...rest,
    id,
    name,
    config: defaultContainerConfig(name, { ...config, name }),
    state: { ...initialContainerState(), ...state },
  };
}

/** A valid pod record: a fresh id (unless given), a name `pod-<short id>`, infra on, sharing net/ipc/uts. */
export function makePodRecord(overrides: Partial<PodRecord> = {}): PodRecord {
  const id = overrides.id ?? generateId();
  return {
    name: `pod-${shortId(id)}`,
    createdAt: new Date().toISOString(),
    labels: {},
    infra: true,
    share: ['net', 'ipc', 'uts'],
    ...overrides,
    id,
  };
}

/** A valid local volume record named `name` (default `vol-<random>`), mounted under /var/lib/libpod-ts/volumes. */
export function makeVolumeRecord(overrides: Partial<VolumeRecord> = {}): VolumeRecord {
  const name = overrides.name ?? `vol-${shortId(generateId())}`;
  return {
    driver: 'local',
    createdAt: new Date().toISOString(),
    labels: {},
    options: {},
    mountPoint: `/var/lib/libpod-ts/volumes/${name}/_data`,
    mountCount: 0,
    needsCopyUp: true,
    ...overrides,
    name,
  };
}
