/**
 * A network's configuration in podman's JSON format (the files of
 * `/etc/containers/networks/<name>.json`), the default network, and the
 * conversion to what `network.inspect()` returns.
 * @module
 */
import type { NetworkInspect } from '../define/network.js';

/** One network as podman 4 writes it (netavark's `network_info` takes the same shape). */
export interface NetworkConfig {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  /** RFC 3339 time. */
  created: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  network_dns_servers?: string[];
  labels?: Record<string, string>;
  ipam_options: { driver: 'host-local' };
}

/** The name of the network containers get when `'bridge'` names none, as podman. */
export const DEFAULT_NETWORK = 'podman';

/** The default network: exists without a file, DNS off (podman's). */
export function defaultNetwork(): NetworkConfig {
  return {
    name: DEFAULT_NETWORK,
    // podman's id of the default network: the sha256 of its name.
    id: '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9',
    driver: 'bridge',
    network_interface: 'podman0',
    created: new Date(0).toISOString(),
    subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: 'host-local' },
  };
}

/** The public view of a config. */
export function toInspect(c: NetworkConfig): NetworkInspect {
  return {
    name: c.name,
    id: c.id,
    driver: c.driver,
    networkInterface: c.network_interface,
    subnets: c.subnets.map((s) => ({ ...s })),
    internal: c.internal,
    dnsEnabled: c.dns_enabled,
    dnsServers: [...(c.network_dns_servers ?? [])],
    labels: { ...(c.labels ?? {}) },
    created: new Date(c.created),
  };
}

/** Whether `v` has the shape of a {@link NetworkConfig} (files are checked when read). */
export function isNetworkConfig(v: unknown): v is NetworkConfig {
  const c = v as NetworkConfig;
  return (
    typeof v === 'object' && v !== null &&
    typeof c.name === 'string' && typeof c.id === 'string' && /^[0-9a-f]{64}$/.test(c.id) &&
    c.driver === 'bridge' && typeof c.network_interface === 'string' &&
    Array.isArray(c.subnets) && c.subnets.every((s) => typeof s?.subnet === 'string' && typeof s?.gateway === 'string')
  );
}
