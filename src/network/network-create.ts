/**
 * `runtime.newNetwork`: validates the options and completes them as podman
 * does: a free /24 of 10.89.0.0/16 when no subnet is given (overlapping no
 * other network and no host route), the subnet's first address as gateway,
 * the next free `podmanN` bridge name, DNS on.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { generateId, validateName } from '../define/ids.js';
import type { NetworkCreateOptions } from '../define/network.js';
import { contains, formatCidr, formatIPv4, overlaps, parseCidr, parseIPv4, usableRange, type Cidr } from './ipv4.js';
import { DEFAULT_NETWORK, type NetworkConfig } from './network-config.js';

const KNOWN = ['name', 'subnet', 'gateway', 'internal', 'dnsEnabled', 'dnsServers', 'interfaceName', 'labels'];
const AUTO_POOL = parseCidr('10.89.0.0/16')!;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

/** What the host and the other networks already use. */
export interface NetworkNeighbours {
  networks: readonly NetworkConfig[];
  routes: readonly Cidr[];
  interfaces: ReadonlySet<string>;
}

function invalid(message: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', message));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function usedSubnets(n: NetworkNeighbours): Cidr[] {
  return [...n.networks.flatMap((c) => c.subnets.map((s) => parseCidr(s.subnet)).filter((c): c is Cidr => c !== undefined)), ...n.routes];
}

/** The first /24 of 10.89.0.0/16 that overlaps nothing in use. */
export function freeSubnet(n: NetworkNeighbours): Cidr | undefined {
  const used = usedSubnets(n);
  for (let i = 0; i < 256; i++) {
    const c: Cidr = { base: AUTO_POOL.base + i * 256, prefix: 24 };
    if (!used.some((u) => overlaps(u, c))) return c;
  }
  return undefined;
}

/** The first `podmanN` (N ≥ 1) no network and no host interface uses. */
export function freeBridgeName(n: NetworkNeighbours): string {
  const taken = new Set([...n.networks.map((c) => c.network_interface), ...n.interfaces]);
  for (let i = 1; ; i++) if (!taken.has(`podman${i}`)) return `podman${i}`;
}

function checkOptions(o: Record<string, unknown>): Result<void, LibpodError> {
  for (const k of Object.keys(o)) if (!KNOWN.includes(k)) return invalid(`unknown network option "${k}"`);
  const name = validateName(o.name, 'network');
  if (name.isErr()) return err(name.error);
  for (const k of ['internal', 'dnsEnabled']) if (o[k] !== undefined && typeof o[k] !== 'boolean') return invalid(`network option ${k} must be a boolean`);
  if (o.dnsServers !== undefined && (!Array.isArray(o.dnsServers) || o.dnsServers.some((s) => parseIPv4(s) === undefined))) {
    return invalid('network option dnsServers must be an array of IPv4 addresses');
  }
  if (o.interfaceName !== undefined && (typeof o.interfaceName !== 'string' || !IFNAME.test(o.interfaceName))) {
    return invalid('network option interfaceName must be 1 to 15 characters of [a-zA-Z0-9_.-]');
  }
  if (o.labels !== undefined && (!isPlainObject(o.labels) || Object.values(o.labels).some((v) => typeof v !== 'string'))) {
    return invalid('network option labels must be an object of strings');
  }
  if (o.subnet !== undefined && parseCidr(o.subnet) === undefined) return invalid(`network option subnet must be an IPv4 CIDR, got ${JSON.stringify(o.subnet)}`);
  if (o.gateway !== undefined && parseIPv4(o.gateway) === undefined) return invalid(`network option gateway must be an IPv4 address, got ${JSON.stringify(o.gateway)}`);
  if (o.gateway !== undefined && o.subnet === undefined) return invalid('network option gateway needs a subnet');
  return ok(undefined);
}

/**
 * The config of a new network from `opts`; `InvalidArg` for bad options, a
 * subnet or bridge another network uses; `NetworkExists` for a taken name.
 */
export function buildNetworkConfig(opts: unknown, n: NetworkNeighbours): Result<NetworkConfig, LibpodError> {
  if (!isPlainObject(opts)) return invalid('network options must be an object with a name');
  const checked = checkOptions(opts);
  if (checked.isErr()) return err(checked.error);
  const o = opts as unknown as NetworkCreateOptions;
  if (o.name === DEFAULT_NETWORK || n.networks.some((c) => c.name === o.name)) {
    return err(libpodError('NetworkExists', `network name ${o.name} already used: network already exists`));
  }
  let subnet: Cidr;
  if (o.subnet !== undefined) {
    subnet = parseCidr(o.subnet)!;
    if (subnet.prefix > 30) return invalid(`subnet ${o.subnet} is too small for a network (at most /30)`);
    const clash = n.networks.find((c) => c.subnets.some((s) => overlaps(parseCidr(s.subnet) ?? subnet, subnet)));
    if (clash) return invalid(`subnet ${formatCidr(subnet)} is already used on the host or by another config (network ${clash.name})`);
    if (n.routes.some((r) => overlaps(r, subnet))) return invalid(`subnet ${formatCidr(subnet)} is already used on the host (a route overlaps it)`);
  } else {
    const free = freeSubnet(n);
    if (!free) return invalid('could not find a free subnet in 10.89.0.0/16: give one with the subnet option');
    subnet = free;
  }
  const gateway = o.gateway ?? formatIPv4(usableRange(subnet).first);
  const gw = parseIPv4(gateway)!;
  const range = usableRange(subnet);
  if (!contains(subnet, gw) || gw < range.first || gw > range.last) return invalid(`gateway ${gateway} is not a host address of subnet ${formatCidr(subnet)}`);
  const bridge = o.interfaceName ?? freeBridgeName(n);
  if (n.networks.some((c) => c.network_interface === bridge)) return invalid(`bridge name ${bridge} is already used by another network`);
  return ok({
    name: o.name,
    id: generateId(),
    driver: 'bridge',
    network_interface: bridge,
    created: new Date().toISOString(),
    subnets: [{ subnet: formatCidr(subnet), gateway }],
    ipv6_enabled: false,
    internal: o.internal ?? false,
    dns_enabled: o.dnsEnabled ?? true,
    ...(o.dnsServers && o.dnsServers.length > 0 ? { network_dns_servers: [...o.dnsServers] } : {}),
    labels: { ...(o.labels ?? {}) },
    ipam_options: { driver: 'host-local' },
  });
}
