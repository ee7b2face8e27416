/**
 * Checks of the networking create options (`network`, `networks`, `ports`,
 * `dns`, `hostname`, `hosts`): shapes only; names are resolved when the
 * container is created (`network-create.ts`).
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { parseIPv4 } from '../network/ipv4.js';
import { checkPortsOption } from '../network/ports.js';

type Check = Result<void, LibpodError>;
const fine: Check = ok(undefined);
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const DNS_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,252})$/;

function invalid(message: string): Check {
  return err(libpodError('InvalidArg', message));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNetworkMode(v: unknown): Check {
  if (v === 'none' || v === 'host' || v === 'bridge') return fine;
  if (isPlainObject(v) && Object.keys(v).length === 1 && typeof v.container === 'string' && v.container !== '') return fine;
  return invalid(`network must be 'none', 'host', 'bridge' or { container: <id or name> }, got ${JSON.stringify(v) ?? String(v)}`);
}

function checkNetworks(v: unknown): Check {
  if (!isPlainObject(v)) return invalid('networks must be an object: network name → { aliases?, staticIPs? }');
  for (const [name, o] of Object.entries(v)) {
    if (name === '') return invalid('networks: a network name must not be empty');
    if (!isPlainObject(o)) return invalid(`networks.${name} must be an object { aliases?, staticIPs? }`);
    for (const k of Object.keys(o)) if (k !== 'aliases' && k !== 'staticIPs') return invalid(`networks.${name} has an unknown key "${k}"`);
    if (o.aliases !== undefined && (!Array.isArray(o.aliases) || o.aliases.some((a) => typeof a !== 'string' || !DNS_NAME.test(a)))) {
      return invalid(`networks.${name}.aliases must be an array of DNS names`);
    }
    if (o.staticIPs !== undefined && (!Array.isArray(o.staticIPs) || o.staticIPs.some((a) => parseIPv4(a) === undefined))) {
      return invalid(`networks.${name}.staticIPs must be an array of IPv4 addresses`);
    }
  }
  return fine;
}

function checkHosts(v: unknown): Check {
  if (!isPlainObject(v)) return invalid('hosts must be an object: name → IPv4 address');
  for (const [name, ip] of Object.entries(v)) {
    if (!DNS_NAME.test(name)) return invalid(`hosts: invalid name ${JSON.stringify(name)}`);
    if (parseIPv4(ip) === undefined) return invalid(`hosts.${name} must be an IPv4 address`);
  }
  return fine;
}

/** The checks of the networking options, by option name (merged into the create-option checks). */
export const NETWORK_OPTION_CHECKS: Record<string, (v: unknown) => Check> = {
  network: checkNetworkMode,
  networks: checkNetworks,
  ports: (v) => {
    const bad = checkPortsOption(v);
    return bad ? err(bad) : fine;
  },
  dns: (v) => (Array.isArray(v) && v.every((s) => parseIPv4(s) !== undefined) ? fine : invalid('dns must be an array of IPv4 addresses')),
  hostname: (v) => (typeof v === 'string' && v.length <= 253 && HOSTNAME.test(v) ? fine : invalid(`hostname ${JSON.stringify(v)} is not a valid hostname`)),
  hosts: checkHosts,
};

/** Option combinations that cannot work (`InvalidArg`). */
export function checkNetworkCombination(o: Record<string, unknown>): Check {
  const mode = o.network ?? (o.networks !== undefined || o.ports !== undefined ? 'bridge' : 'none');
  if (mode !== 'bridge') {
    for (const k of ['networks', 'ports', 'dns', 'hosts']) {
      if (o[k] !== undefined) return invalid(`${k} needs bridge networking (network is ${JSON.stringify(mode)})`);
    }
  }
  if (typeof mode === 'object' && o.hostname !== undefined) return invalid('hostname cannot be set when joining another container\'s network namespace');
  return fine;
}

/** The network mode a config gets: `'bridge'` when `networks` or `ports` are given, else `'none'`. */
export function defaultNetworkMode(o: { network?: unknown; networks?: unknown; ports?: unknown }): 'none' | 'bridge' {
  return o.networks !== undefined || o.ports !== undefined ? 'bridge' : 'none';
}
