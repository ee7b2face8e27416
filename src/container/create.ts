/**
 * `runtime.newContainer` (libpod `NewContainer`): validate, resolve names to
 * ids, create missing named volumes (as podman does), then add the record.
 * Nothing is left behind when any step fails.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { ContainerConfig } from '../define/config.js';
import { libpodError, type LibpodError } from '../define/errors.js';
import { generateId, generateName } from '../define/ids.js';
import { initialContainerState, type ContainerRecord, type VolumeRecord } from '../define/records.js';
import type { EngineContext } from '../engine/context.js';
import { admitted } from '../engine/operation-gate.js';
import { createVolume, removeVolumeRecord } from '../volume/volume-create.js';
import { volumeEvent } from '../volume/volume-events.js';
import { validateCreateOptions } from './create-options.js';
import type { GivenOptions } from '../image/apply-config.js';
import { failAfter } from '../util/safe.js';
import { createImageLayer, optionsForValidation, removeImageLayer, resolveCreateImage, withImageConfig } from './image-rootfs.js';
import { resolveNetworking } from './network-create.js';

/** Extra, engine-internal creation settings (pods use them for infra containers). */
export interface InternalCreateOptions {
  isInfra?: boolean;
}

/** The requested name, or a generated `adjective_noun` free among containers and pods. */
export function chooseName(ctx: EngineContext, requested: unknown): ResultAsync<string, LibpodError> {
  if (requested !== undefined) return okAsync(requested as string);
  return ctx.index.takenNames().map((taken) => generateName((n) => taken(n)));
}

function resolveDependencies(ctx: EngineContext, config: ContainerConfig): ResultAsync<string[], LibpodError> {
  return ResultAsync.combine(
    config.dependencies.map((d) =>
      ctx.index.lookupContainer(d).map((r) => r.id).mapErr((e) => libpodError(e.code, `dependency ${d}: ${e.message}`, e)),
    ),
  ).map((ids) => [...new Set(ids)]);
}

function resolvePod(ctx: EngineContext, config: ContainerConfig): ResultAsync<{ podId?: string; infraId?: string; share?: string[] }, LibpodError> {
  if (config.pod === undefined) return okAsync({});
  return ctx.index.lookupPod(config.pod).map((pod) => ({ podId: pod.id, infraId: pod.infraContainerId, share: pod.infra ? pod.share : [] }));
}

/** Creates missing named volumes; returns those it created (to undo on failure, to announce on success). */
function ensureVolumes(ctx: EngineContext, config: ContainerConfig): ResultAsync<VolumeRecord[], LibpodError> {
  const created: VolumeRecord[] = [];
  return config.volumes
    .reduce<ResultAsync<void, LibpodError>>(
      (acc, v) =>
        acc.andThen(() =>
          ctx.index.getVolume(v.name).map(() => undefined).orElse((e) =>
            e.code === 'NoSuchVolume'
              ? createVolume(ctx, { name: v.name }).map((vol) => void created.push(vol))
              : errAsync(e),
          ),
        ),
      okAsync(undefined),
    )
    .map(() => created)
    .orElse((e) => undoVolumes(ctx, created).andThen(() => errAsync(e)));
}

function undoVolumes(ctx: EngineContext, vols: readonly VolumeRecord[]): ResultAsync<void, LibpodError> {
  return vols.reduce<ResultAsync<void, LibpodError>>((acc, v) => acc.andThen(() => removeVolumeRecord(ctx, v.name).orElse(() => okAsync(undefined))), okAsync(undefined));
}

/** Validates the options and adds the container; resolves to its record. */
export function createContainer(ctx: EngineContext, opts: unknown, internal: InternalCreateOptions = {}): ResultAsync<ContainerRecord, LibpodError> {
  return admitted(ctx, (op) => addContainer(op, opts, internal));
}

function addContainer(ctx: EngineContext, opts: unknown, internal: InternalCreateOptions): ResultAsync<ContainerRecord, LibpodError> {
  if (typeof opts !== 'object' || opts === null) return errAsync(libpodError('InvalidArg', 'container options must be an object'));
  const requested = (opts as { name?: unknown }).name;
  const given = opts as GivenOptions;
  return resolveCreateImage(ctx, given)
    .andThen((image) =>
      chooseName(ctx, requested)
        .andThen((name) => {
          const config = validateCreateOptions(optionsForValidation(given, image), name);
          return config.isErr() ? errAsync(config.error) : okAsync(config.value);
        })
        .andThen((config) => withImageConfig(config, given, image)),
    )
    .andThen((validated) =>
      ResultAsync.combine([resolveDependencies(ctx, validated), resolvePod(ctx, validated)]).andThen(([deps, pod]) =>
        resolveNetworking(ctx, validated, { share: pod.share, infra: internal.isInfra === true }).map((net) => ({ deps, pod, net })),
      ).andThen(({ deps, pod, net }) => {
        const { config } = net;
        const withPod = pod.infraId && !internal.isInfra && !deps.includes(pod.infraId) ? [...deps, pod.infraId] : deps;
        const dependencyIds = net.dependency && !withPod.includes(net.dependency) ? [...withPod, net.dependency] : withPod;
        return ensureVolumes(ctx, config).andThen((createdVolumes) => {
          const rec: ContainerRecord = {
            id: generateId(),
            name: config.name,
            createdAt: new Date().toISOString(),
            config,
            dependencyIds,
            ...(pod.podId ? { podId: pod.podId } : {}),
            ...(internal.isInfra ? { isInfra: true } : {}),
            ...(createdVolumes.length > 0 ? { createdVolumes: createdVolumes.map((v) => v.name) } : {}),
            ...(net.networks ? { networks: net.networks } : {}),
            state: initialContainerState(),
          };
          const undo = (e: LibpodError): ResultAsync<never, LibpodError> =>
            failAfter(e, () => removeImageLayer(ctx, rec.id, config).andThen(() => undoVolumes(ctx, createdVolumes)));
          return createImageLayer(ctx, rec.id, config)
            .orElse((e) => undoVolumes(ctx, createdVolumes).andThen(() => errAsync(e)))
            .andThen(() =>
              ctx.index
                .addContainer(rec)
                .map(() => {
                  // Announced only now that the container that made them exists (a failed create removes them).
                  ctx.publish(createdVolumes.map((v) => volumeEvent(v, 'create')));
                  return rec;
                })
                .orElse(undo),
            );
        });
      }),
    );
}
