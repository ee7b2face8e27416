/**
 * Finding networks: by name (the default one included), full id or unique id
 * prefix; listing with a filter; which containers use a network.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { NetworkFilter } from '../define/network.js';
import type { EngineContext } from '../engine/context.js';
import type { ContainerRecord } from '../define/records.js';
import type { NetworkAttachment } from '../define/network.js';
import { defaultNetwork, type NetworkConfig } from './network-config.js';

/** The networks a container is attached to now (`connect`/`disconnect` keep them in its state). */
export function attachmentsOf(rec: ContainerRecord): Record<string, NetworkAttachment> | undefined {
  return rec.state.networks ?? rec.networks;
}

/** Every network, the default one first. */
export function allNetworks(ctx: EngineContext): ResultAsync<NetworkConfig[], LibpodError> {
  return ctx.network.list().map((list) => [defaultNetwork(), ...list.filter((c) => c.name !== defaultNetwork().name)]);
}

/** A network by name, full id or unique id prefix; `NoSuchNetwork` otherwise. */
export function lookupNetworkConfig(ctx: EngineContext, nameOrId: unknown): ResultAsync<NetworkConfig, LibpodError> {
  if (typeof nameOrId !== 'string' || nameOrId === '') return errAsync(libpodError('InvalidArg', 'network name or id must be a non-empty string'));
  return allNetworks(ctx).andThen((all) => {
    const byName = all.find((c) => c.name === nameOrId || c.id === nameOrId);
    if (byName) return okAsync(byName);
    const byPrefix = /^[0-9a-f]+$/.test(nameOrId) ? all.filter((c) => c.id.startsWith(nameOrId)) : [];
    if (byPrefix.length === 1) return okAsync(byPrefix[0] as NetworkConfig);
    if (byPrefix.length > 1) return errAsync(libpodError('InvalidArg', `more than one result for network ID ${nameOrId}: ${byPrefix.map((c) => c.name).join(', ')}`));
    return errAsync(libpodError('NoSuchNetwork', `unable to find network with name or ID ${nameOrId}: network not found`));
  });
}

/** Ids of the containers attached to network `name`, or joining it by their own config. */
export function networkUsers(ctx: EngineContext, name: string): ResultAsync<string[], LibpodError> {
  return ctx.index.allContainers().map((recs) => recs.filter((r) => attachmentsOf(r)?.[name] !== undefined).map((r) => r.id));
}

const FILTER_KEYS = ['name', 'id', 'labels', 'inUse'];

/** `InvalidArg` for a malformed filter. */
export function checkNetworkFilter(f: unknown): LibpodError | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return libpodError('InvalidArg', 'network filter must be an object');
  const o = f as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FILTER_KEYS.includes(k)) return libpodError('InvalidArg', `unknown network filter "${k}"`);
  const names = o.name === undefined ? [] : Array.isArray(o.name) ? o.name : [o.name];
  if (names.some((n) => typeof n !== 'string')) return libpodError('InvalidArg', 'network filter name must be a string or an array of strings');
  if (o.id !== undefined && typeof o.id !== 'string') return libpodError('InvalidArg', 'network filter id must be a string');
  if (o.inUse !== undefined && typeof o.inUse !== 'boolean') return libpodError('InvalidArg', 'network filter inUse must be a boolean');
  if (o.labels !== undefined && (typeof o.labels !== 'object' || o.labels === null || Object.values(o.labels).some((v) => typeof v !== 'string'))) {
    return libpodError('InvalidArg', 'network filter labels must be an object of strings');
  }
  return undefined;
}

/** Networks matching `f`, by name (default first). */
export function listNetworks(ctx: EngineContext, f: NetworkFilter): ResultAsync<NetworkConfig[], LibpodError> {
  return allNetworks(ctx).andThen((all) =>
    ctx.index.allContainers().map((recs) => {
      const used = new Set(recs.flatMap((r) => Object.keys(attachmentsOf(r) ?? {})));
      const names = f.name === undefined ? undefined : Array.isArray(f.name) ? f.name : [f.name];
      return all.filter(
        (c) =>
          (names === undefined || names.includes(c.name)) &&
          (f.id === undefined || c.id.startsWith(f.id)) &&
          Object.entries(f.labels ?? {}).every(([k, v]) => c.labels?.[k] !== undefined && (v === '' || c.labels[k] === v)) &&
          (f.inUse === undefined || used.has(c.name) === f.inUse),
      );
    }),
  );
}
