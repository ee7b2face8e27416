/**
 * `ctr.connect` / `ctr.disconnect` (libpod `NetworkConnect`,
 * `NetworkDisconnect`): a bridge container joins or leaves a network. A
 * container with live networking is wired at once through netavark (with an
 * address from the IPAM, its published ports, its /etc files rewritten);
 * one without gets the change for its next start.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import type { NetworkAttachOptions } from '../define/network.js';
import { checkStaticIPs } from '../network/ipam.js';
import type { NetworkConfig } from '../network/network-config.js';
import { networkEvent } from '../network/network-events.js';
import { attachmentsOf, lookupNetworkConfig } from '../network/network-query.js';
import { failAfter } from '../util/safe.js';
import { logger } from '../util/log.js';
import { rewriteExitTeardown } from './network-exit.js';
import { aliasesOf, configsOf, endpointsFrom, requestFor, writeEtcFiles } from './networking.js';
import { save, type CtrSession } from './session.js';

const log = logger('container:network');
const DNS_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,252})$/;

/** `InvalidArg` for malformed connect options. */
export function checkConnectOptions(o: unknown): LibpodError | undefined {
  if (o === undefined) return undefined;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return libpodError('InvalidArg', 'connect options must be { aliases?, staticIPs? }');
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (k !== 'aliases' && k !== 'staticIPs') return libpodError('InvalidArg', `unknown connect option "${k}"`);
  if (r.aliases !== undefined && (!Array.isArray(r.aliases) || r.aliases.some((a) => typeof a !== 'string' || !DNS_NAME.test(a)))) {
    return libpodError('InvalidArg', 'connect option aliases must be an array of DNS names');
  }
  if (r.staticIPs !== undefined && (!Array.isArray(r.staticIPs) || r.staticIPs.some((a) => typeof a !== 'string'))) {
    return libpodError('InvalidArg', 'connect option staticIPs must be an array of IPv4 addresses');
  }
  return undefined;
}

function bridgeOnly(s: CtrSession): ResultAsync<void, LibpodError> {
  if (s.rec.config.network !== 'bridge' || !attachmentsOf(s.rec)) {
    return errAsync(libpodError('InvalidArg', `container ${s.rec.id} does not use bridge networking (network ${JSON.stringify(s.rec.config.network)}): it cannot connect or disconnect`));
  }
  if (s.rec.state.state === 'removing') return improper(`container ${s.rec.id} is being removed`);
  return okAsync(undefined);
}

/** Rewrites the pending exit teardown for the container's networks now (connect and disconnect change them). */
function refreshExitTeardown(s: CtrSession): ResultAsync<void, LibpodError> {
  const net = s.rec.state.network;
  if (!net) return okAsync(undefined);
  const names = Object.keys(net.addresses);
  return ResultAsync.combine([configsOf(s, names), aliasesOf(s)]).andThen(([configs, extra]) => rewriteExitTeardown(s, requestFor(s, net, configs, extra, names)));
}

/** Wires a live container into `config` (its attachment is already in the record). */
function wire(s: CtrSession, config: NetworkConfig): ResultAsync<void, LibpodError> {
  const net = s.rec.state.network;
  if (!net) return okAsync(undefined);
  const name = config.name;
  const attach = attachmentsOf(s.rec)![name]!;
  return s.ctx.ipam
    .allocate(s.rec.id, config, attach.staticIPs)
    .andThen((ips) => {
      net.addresses[name] = ips;
      return save(s);
    })
    .andThen(() => refreshExitTeardown(s))
    .andThen(() => aliasesOf(s))
    .andThen((extra) => s.ctx.network.setup(net.netns, requestFor(s, net, { [name]: config }, extra, [name])))
    .andThen((status) => {
      Object.assign(net.endpoints, endpointsFrom(s, status, { [name]: config }));
      return save(s).andThen(() => writeEtcFiles(s));
    })
    .orElse((e) =>
      failAfter(e, () =>
        s.ctx.ipam.release(s.rec.id, name).andThen(() => {
          delete net.addresses[name];
          delete net.endpoints[name];
          return save(s).andThen(() => refreshExitTeardown(s));
        }),
      ),
    );
}

/** `ctr.connect(network, { aliases, staticIPs })`. */
export function connectVerb(s: CtrSession, nameOrId: string, opts: NetworkAttachOptions): ResultAsync<void, LibpodError> {
  return bridgeOnly(s)
    .andThen(() => lookupNetworkConfig(s.ctx, nameOrId))
    .andThen((config) => {
      const networks = { ...attachmentsOf(s.rec)! };
      s.rec.state.networks = networks;
      if (networks[config.name]) return errAsync(libpodError('InvalidArg', `container ${s.rec.id} is already connected to network ${config.name}`));
      const staticIPs = opts.staticIPs ?? [];
      const bad = checkStaticIPs(config, staticIPs);
      if (bad) return errAsync(bad);
      const used = new Set(Object.values(networks).map((a) => a.interfaceName));
      let i = 0;
      while (used.has(`eth${i}`)) i += 1;
      networks[config.name] = { aliases: [...(opts.aliases ?? [])], staticIPs: [...staticIPs], interfaceName: `eth${i}` };
      return wire(s, config)
        .orElse((e) => {
          delete networks[config.name];
          return save(s).andThen(() => errAsync(e));
        })
        .andThen(() => save(s))
        .map(() => void s.pending.push(networkEvent(config, 'connect', { container: s.rec.id })));
    });
}

/** `ctr.disconnect(network)`: netavark's teardown failure is logged when `force`, else returned (the address is released either way). */
export function disconnectVerb(s: CtrSession, nameOrId: string, force: boolean): ResultAsync<void, LibpodError> {
  return bridgeOnly(s)
    .andThen(() => lookupNetworkConfig(s.ctx, nameOrId))
    .andThen((config) => {
      const name = config.name;
      if (!attachmentsOf(s.rec)![name]) return errAsync(libpodError('NoSuchNetwork', `container ${s.rec.id} is not connected to network ${name}: network not found`));
      const net = s.rec.state.network;
      const live = net && net.addresses[name] !== undefined;
      const unwire = !live
        ? okAsync<LibpodError | undefined, LibpodError>(undefined)
        : aliasesOf(s)
            .andThen((extra) => s.ctx.network.teardown(net.netns, requestFor(s, net, { [name]: config }, extra, [name])))
            .map(() => undefined)
            .orElse((e) => {
              log('netavark teardown of %s on %s failed: %s', s.rec.id, name, e.message);
              return okAsync<LibpodError | undefined, LibpodError>(force ? undefined : e);
            })
            .andThen((failure) =>
              s.ctx.ipam.release(s.rec.id, name).map(() => {
                delete net.addresses[name];
                delete net.endpoints[name];
                return failure;
              }),
            );
      return unwire.andThen((failure) => {
        const rest = { ...attachmentsOf(s.rec)! };
        delete rest[name];
        s.rec.state.networks = rest;
        return save(s)
          .andThen(() => (live ? refreshExitTeardown(s).andThen(() => writeEtcFiles(s)) : okAsync(undefined)))
          .andThen(() => {
            s.pending.push(networkEvent(config, 'disconnect', { container: s.rec.id }));
            return failure ? errAsync(failure) : okAsync(undefined);
          });
      });
    });
}
