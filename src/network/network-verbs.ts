/**
 * The runtime's network verbs (podman's `network create / rm / prune`):
 * creation and removal of configs take the runtime's `network:config` lock,
 * so two concurrent creates never pick the same subnet or bridge. Events are
 * published after the lock is released.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import type { NetworkEventStatus } from '../define/events.js';
import type { EngineContext } from '../engine/context.js';
import { removeVerb } from '../container/remove.js';
import { withContainer } from '../container/session.js';
import { syncContainer } from '../container/sync.js';
import { hostInterfaces, hostRoutes } from './host-routes.js';
import { networkEvent } from './network-events.js';
import { DEFAULT_NETWORK, type NetworkConfig } from './network-config.js';
import { buildNetworkConfig } from './network-create.js';
import { allNetworks, attachmentsOf, lookupNetworkConfig, networkUsers } from './network-query.js';

const CONFIG_LOCK = { kind: 'network' as const, id: 'config' };


/** Creates a network (see {@link buildNetworkConfig}); publishes `create`. */
export function createNetworkVerb(ctx: EngineContext, opts: unknown): ResultAsync<NetworkConfig, LibpodError> {
  return ctx.locks
    .withLock(CONFIG_LOCK, () =>
      ResultAsync.combine([allNetworks(ctx), attempt(() => hostRoutes()), attempt(() => hostInterfaces())]).andThen(([networks, routes, interfaces]) => {
        const config = buildNetworkConfig(opts, { networks, routes, interfaces });
        if (config.isErr()) return errAsync(config.error);
        return ctx.network.create(config.value).map(() => config.value);
      }),
    )
    .map((config) => {
      ctx.publish([networkEvent(config, 'create', { driver: config.driver })]);
      return config;
    });
}

/** Removes the containers using a network (force), each under its lock. */
function removeUsers(ctx: EngineContext, ids: readonly string[]): ResultAsync<void, LibpodError> {
  return ids.reduce<ResultAsync<void, LibpodError>>(
    (acc, id) =>
      acc.andThen(() =>
        withContainer(ctx, id, (s) => removeVerb(s, { force: true }), syncContainer).orElse((e) => (e.code === 'CtrRemoved' ? okAsync(undefined) : errAsync(e))),
      ),
    okAsync(undefined),
  );
}

/**
 * Removes a network: `NetworkInUse` when containers use it, unless `force`,
 * which removes them first (podman `network rm -f`). The default network
 * cannot be removed (`InvalidArg`).
 */
export function removeNetworkVerb(ctx: EngineContext, name: string, force: boolean, status: NetworkEventStatus = 'remove'): ResultAsync<void, LibpodError> {
  return lookupNetworkConfig(ctx, name).andThen((config) =>
    config.name === DEFAULT_NETWORK
      ? errAsync(libpodError('InvalidArg', `default network ${DEFAULT_NETWORK} cannot be removed`))
      : networkUsers(ctx, config.name)
      .andThen((users) => {
        if (users.length === 0) return okAsync(undefined);
        if (!force) {
          return errAsync(libpodError('NetworkInUse', `network ${config.name} is being used by containers ${users.map((u) => u.slice(0, 12)).join(', ')}: network is being used`));
        }
        return removeUsers(ctx, users);
      })
      .andThen(() =>
        ctx.locks.withLock(CONFIG_LOCK, () =>
          networkUsers(ctx, config.name).andThen((users) =>
            users.length > 0
              ? errAsync(libpodError('NetworkInUse', `network ${config.name} is being used by containers ${users.map((u) => u.slice(0, 12)).join(', ')}: network is being used`))
              : ctx.network.remove(config.name).andThen(() => ctx.ipam.drop(config.name)),
          ),
        ),
      )
      .map(() => ctx.publish([networkEvent(config, status, { driver: config.driver })])),
  );
}

/** Removes every network no container uses (the default one stays); resolves to their names. */
export function pruneNetworksVerb(ctx: EngineContext): ResultAsync<string[], LibpodError> {
  return ResultAsync.combine([ctx.network.list(), ctx.index.allContainers()]).andThen(([configs, recs]) => {
    const used = new Set(recs.flatMap((r) => Object.keys(attachmentsOf(r) ?? {})));
    const unused = configs.filter((c) => c.name !== DEFAULT_NETWORK && !used.has(c.name));
    const removed: string[] = [];
    return unused
      .reduce<ResultAsync<void, LibpodError>>(
        (acc, c) =>
          acc.andThen(() =>
            removeNetworkVerb(ctx, c.name, false, 'prune')
              .map(() => void removed.push(c.name))
              .orElse((e) => (e.code === 'NetworkInUse' || e.code === 'NoSuchNetwork' ? okAsync(undefined) : errAsync(e))),
          ),
        okAsync(undefined),
      )
      .map(() => removed);
  });
}
