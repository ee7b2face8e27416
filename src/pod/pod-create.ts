/**
 * `runtime.newPod` (libpod `NewPod` + the infra container podman's pod
 * creation adds): validate, add the pod record, then create its infra
 * container, which holds the namespaces the members share. Nothing is left
 * behind when a step fails.
 *
 * On-disk layout:
 *
 * ```
 * <root>/pods/<id>/infra-rootfs/     the infra container's root filesystem:
 *   proc dev sys etc tmp             empty mount points
 *   catatonit                        bind-mount target of the host's catatonit
 * ```
 * @module
 */
import { chooseName } from '../container/create.js';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { ContainerCreateOptions } from '../define/config.js';
import type { NetworkAttachOptions, PortMapping } from '../define/network.js';
import { checkNetworkCombination, defaultNetworkMode, NETWORK_OPTION_CHECKS } from '../container/network-options.js';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import type { LibpodEvent } from '../define/events.js';
import { generateId, shortId, validateName } from '../define/ids.js';
import type { ContainerRecord, PodNamespace, PodRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import { createContainer } from '../container/create.js';
import { failAfter } from '../util/safe.js';
import { stringMap } from '../util/validate.js';

type R<T> = ResultAsync<T, LibpodError>;

/** Options of `runtime.newPod`. Unknown keys are `InvalidArg`. */
export interface PodCreateOptions {
  /** Name; generated (`adjective_noun`) when absent. Same rule as container names. */
  name?: string;
  /** Labels. */
  labels?: Record<string, string>;
  /** Whether the pod gets an infra container holding its namespaces (default `true`). */
  infra?: boolean;
  /**
   * Namespaces the members share through the infra container (default
   * `['net', 'ipc', 'uts']` with an infra container, none without). Sharing
   * without an infra container is `InvalidArg`.
   */
  share?: PodNamespace[];
  /** The infra container's network mode (`'none'`, `'host'` or `'bridge'`; see `ContainerCreateOptions.network`). */
  network?: 'none' | 'host' | 'bridge';
  /** Networks the infra container attaches to; the pod's name resolves on them. */
  networks?: Record<string, NetworkAttachOptions>;
  /** Ports the infra container publishes for the pod's members. */
  ports?: PortMapping[];
}

/** Namespaces a pod can share. */
export const POD_NAMESPACES: readonly PodNamespace[] = ['net', 'ipc', 'uts', 'pid', 'cgroup'];

/** What members share by default (podman's `--share` default, less what we have no use for). */
export const DEFAULT_POD_SHARE: readonly PodNamespace[] = ['net', 'ipc', 'uts'];

/** Where catatonit is looked for, in order (Debian/Fedora packages, podman's libexec). */
const CATATONIT_PATHS = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/local/bin/catatonit', '/usr/local/libexec/podman/catatonit'];

/** The directory of pod `id`. */
export function podDir(root: string, id: string): string {
  return join(root, 'pods', id);
}

/** The infra container's root filesystem of pod `id`. */
export function infraRootfs(root: string, id: string): string {
  return join(podDir(root, id), 'infra-rootfs');
}

function invalid(message: string): LibpodError {
  return libpodError('InvalidArg', message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validated options, defaults applied. */
interface PodSettings {
  name?: string;
  labels: Record<string, string>;
  infra: boolean;
  share: PodNamespace[];
  /** The infra container's networking options, as given. */
  net: Pick<ContainerCreateOptions, 'network' | 'networks' | 'ports'>;
}

const POD_NETWORK_KEYS = ['network', 'networks', 'ports'] as const;

/** Checks the pod's networking options (the container checks, plus: an infra container that shares its network namespace). */
function checkPodNetwork(o: PodCreateOptions, infra: boolean, share: readonly PodNamespace[]): LibpodError | undefined {
  const given = POD_NETWORK_KEYS.filter((k) => o[k] !== undefined);
  for (const k of given) {
    const r = NETWORK_OPTION_CHECKS[k]!(o[k]);
    if (r.isErr()) return r.error;
  }
  if (typeof o.network === 'object') return invalid('pod option network must be \'none\', \'host\' or \'bridge\'');
  if (given.length > 0 && (!infra || !share.includes('net'))) return invalid('pod networking options need an infra container sharing the net namespace');
  const combo = checkNetworkCombination(o as Record<string, unknown>);
  return combo.isErr() ? combo.error : undefined;
}

/** Checks `opts`; `InvalidArg` for unknown keys, bad names, labels, namespaces or sharing without infra. */
export function validatePodOptions(opts: unknown): PodSettings | LibpodError {
  if (opts === undefined) return { labels: {}, infra: true, share: [...DEFAULT_POD_SHARE], net: {} };
  if (!isPlainObject(opts)) return invalid('pod options must be an object');
  for (const k of Object.keys(opts)) if (!['name', 'labels', 'infra', 'share', ...POD_NETWORK_KEYS].includes(k)) return invalid(`unknown pod option "${k}"`);
  const o = opts as PodCreateOptions;
  if (o.name !== undefined) {
    const n = validateName(o.name, 'pod');
    if (n.isErr()) return n.error;
  }
  if (o.labels !== undefined && stringMap(o.labels) !== undefined) {
    return invalid('pod labels must be an object of strings');
  }
  if (o.infra !== undefined && typeof o.infra !== 'boolean') return invalid('pod option infra must be a boolean');
  const infra = o.infra ?? true;
  if (o.share !== undefined && (!Array.isArray(o.share) || o.share.some((s) => !POD_NAMESPACES.includes(s)))) {
    return invalid(`pod option share must be an array of ${POD_NAMESPACES.map((n) => `'${n}'`).join(', ')}`);
  }
  const share = o.share === undefined ? (infra ? [...DEFAULT_POD_SHARE] : []) : [...new Set(o.share)];
  if (!infra && share.length > 0) return invalid('pods must have an infra container to share namespaces');
  const badNet = checkPodNetwork(o, infra, share);
  if (badNet) return badNet;
  const net: PodSettings['net'] = {};
  for (const k of POD_NETWORK_KEYS) if (o[k] !== undefined) Object.assign(net, { [k]: structuredClone(o[k]) });
  return { ...(o.name === undefined ? {} : { name: o.name }), labels: { ...(o.labels ?? {}) }, infra, share, net };
}


/** The host's catatonit, if installed. */
export function findCatatonit(): string | undefined {
  return CATATONIT_PATHS.find((p) => existsSync(p));
}

/** Builds the infra container's options: `catatonit -P` in a tiny rootfs, own network namespace. */
function infraOptions(ctx: EngineContext, pod: PodRecord, net: PodSettings['net']): R<ContainerCreateOptions> {
  const catatonit = findCatatonit();
  // A runtime that runs no real process (the fake) needs no binary; a real one does.
  if (catatonit === undefined && ctx.oci.features.runsProcesses !== false) {
    return errAsync(
      libpodError('OCIRuntimeNotFound', `cannot create the infra container of pod ${pod.id}: catatonit not found in ${CATATONIT_PATHS.join(', ')} (install the catatonit package)`),
    );
  }
  const rootfs = infraRootfs(ctx.root, pod.id);
  return attempt(async () => {
    for (const d of ['proc', 'dev', 'sys', 'etc', 'tmp']) await mkdir(join(rootfs, d), { recursive: true, mode: 0o755 });
    await writeFile(join(rootfs, 'catatonit'), '', { mode: 0o755 });
  }, 'Internal', `preparing the infra root filesystem of pod ${pod.id}`).map(() => ({
    name: `${shortId(pod.id)}-infra`,
    rootfs,
    command: ['/catatonit', '-P'],
    pod: pod.id,
    ...net,
    network: net.network ?? defaultNetworkMode(net),
    stopTimeout: 10,
    labels: { ...pod.labels },
    mounts: catatonit === undefined ? [] : [{ source: catatonit, destination: '/catatonit', type: 'bind' as const, options: ['ro', 'bind'] }],
  }));
}

function createInfra(ctx: EngineContext, pod: PodRecord, net: PodSettings['net']): R<ContainerRecord> {
  return infraOptions(ctx, pod, net).andThen((opts) => createContainer(ctx, opts, { isInfra: true }));
}

/** Drops what a failed creation left: the pod record and the pod's directory. */
function undo(ctx: EngineContext, id: string): R<void> {
  return ctx.index
    .removePod(id)
    .andThen(() => attempt(() => rm(podDir(ctx.root, id), { recursive: true, force: true }), 'Internal', `removing directory of pod ${id}`));
}

/**
 * Validates the options, adds the pod and (unless `infra: false`) its infra
 * container; resolves to the pod record and the infra container's record.
 * The caller publishes the events.
 */
export function createPod(ctx: EngineContext, opts: unknown): R<{ pod: PodRecord; infra?: ContainerRecord }> {
  return admitted(ctx, (op) => addPod(op, opts));
}

function addPod(ctx: EngineContext, opts: unknown): R<{ pod: PodRecord; infra?: ContainerRecord }> {
  const settings = validatePodOptions(opts);
  if (settings instanceof Error) return errAsync(settings);
  return chooseName(ctx, settings.name).andThen((name) => {
    const pod: PodRecord = {
      id: generateId(),
      name,
      createdAt: new Date().toISOString(),
      labels: settings.labels,
      infra: settings.infra,
      share: settings.share,
      hostname: name,
    };
    return ctx.index.addPod(pod).andThen(() => {
      if (!pod.infra) return okAsync({ pod });
      return createInfra(ctx, pod, settings.net)
        .andThen((infra) => {
          pod.infraContainerId = infra.id;
          return ctx.index
            .savePod(pod)
            .map(() => ({ pod, infra }))
            .orElse((e) => failAfter(e, () => ctx.index.removeContainer(infra.id)));
        })
        .orElse((e) => failAfter(e, () => undo(ctx, pod.id)));
    });
  });
}

/** The events of a new pod: its infra container's `create`, then the pod's `create`. */
export function podCreatedEvents(created: { pod: PodRecord; infra?: ContainerRecord }): LibpodEvent[] {
  const { pod, infra } = created;
  const time = new Date();
  const events: LibpodEvent[] = [];
  if (infra) events.push({ type: 'container', status: 'create', id: infra.id, name: infra.name, time, attributes: { ...infra.config.labels, pod: pod.id } });
  events.push({ type: 'pod', status: 'create', id: pod.id, name: pod.name, time, attributes: { ...pod.labels } });
  return events;
}
