/**
 * Networking decided when a container is created: the networks it attaches
 * to (names or ids resolved to names, static addresses inside their
 * subnets, `eth0`, `eth1`, ... in order), the container whose namespace it
 * joins (a dependency, as podman's `--network container:`), and the rules
 * for pod members (they use the infra container's networking: `networks`,
 * `ports` and network modes of their own are `InvalidArg`).
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { ContainerConfig } from '../define/config.js';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { NetworkAttachment } from '../define/network.js';
import type { EngineContext } from '../engine/context.js';
import { checkStaticIPs } from '../network/ipam.js';
import { DEFAULT_NETWORK } from '../network/network-config.js';
import { lookupNetworkConfig } from '../network/network-query.js';

/** What creation adds to the record for networking. */
export interface CreatedNetworking {
  config: ContainerConfig;
  networks?: Record<string, NetworkAttachment>;
  /** The container whose namespace this one joins. */
  dependency?: string;
}

/** Attachments for `names` (resolved), in order: eth0, eth1, ... */
export function resolveAttachments(
  ctx: EngineContext,
  wanted: Record<string, { aliases?: string[]; staticIPs?: string[] }>,
  first = 0,
): ResultAsync<Record<string, NetworkAttachment>, LibpodError> {
  const entries = Object.entries(wanted);
  return ResultAsync.combine(entries.map(([name]) => lookupNetworkConfig(ctx, name))).andThen((configs) => {
    const out: Record<string, NetworkAttachment> = {};
    for (const [i, [, opts]] of entries.entries()) {
      const net = configs[i]!;
      if (out[net.name]) return errAsync(libpodError('InvalidArg', `network ${net.name} is given twice`));
      const staticIPs = opts.staticIPs ?? [];
      const bad = checkStaticIPs(net, staticIPs);
      if (bad) return errAsync(bad);
      out[net.name] = { aliases: [...(opts.aliases ?? [])], staticIPs: [...staticIPs], interfaceName: `eth${first + i}` };
    }
    return okAsync(out);
  });
}

/** Resolves the networking of a new container (see the module comment). */
export function resolveNetworking(
  ctx: EngineContext,
  config: ContainerConfig,
  pod: { share?: readonly string[]; infra?: boolean },
): ResultAsync<CreatedNetworking, LibpodError> {
  const mode = config.network;
  if (pod.share?.includes('net') && !pod.infra) {
    if (mode !== 'none' || config.ports !== undefined || config.networks !== undefined) {
      return errAsync(libpodError('InvalidArg', 'a pod member uses its pod\'s network: give network, networks and ports to the pod (its infra container holds them)'));
    }
    return okAsync({ config });
  }
  if (typeof mode === 'object') {
    return ctx.index.lookupContainer(mode.container).map((target) => ({ config: { ...config, network: { container: target.id } }, dependency: target.id }));
  }
  if (mode !== 'bridge') return okAsync({ config });
  const wanted = config.networks && Object.keys(config.networks).length > 0 ? config.networks : { [DEFAULT_NETWORK]: {} };
  return resolveAttachments(ctx, wanted).map((networks) => ({ config, networks }));
}
