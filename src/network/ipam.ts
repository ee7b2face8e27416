/**
 * Address allocation (libnetwork's IPAM, kept by the caller of netavark):
 * per network, which address each container holds and the last address
 * handed out. New addresses go round robin from the last one (skipping the
 * gateway, the network and broadcast addresses and taken ones, wrapping at
 * the end), as libpod's. Kept in the volatile root, so a reboot forgets it
 * along with the namespaces that used the addresses.
 *
 * ```
 * <runRoot>/networks/ipam/<network>.json   { "allocations": { ip: ctrId }, "last": { subnet: ip } }
 * ```
 *
 * Every change runs under the runtime's `network:ipam` lock, then the run
 * directory's cross-process `ipam` lock (conmon's exit command releases
 * addresses too, see `exit-teardown.ts`), and is written to a temporary file
 * renamed into place.
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import type { LockManager } from '../locks/lock-manager.js';
import { contains, formatIPv4, parseCidr, parseIPv4, usableRange } from './ipv4.js';
import type { NetworkConfig } from './network-config.js';
import { IPAM_LOCK, runDirLocks } from './run-locks.js';

/** One network's allocations. */
interface IpamFile {
  allocations: Record<string, string>;
  last: Record<string, string>;
}

const LOCK = { kind: 'network' as const, id: 'ipam' };

/** The allocations of every network under one directory. */
export class Ipam {
  readonly #dir: string;
  readonly #locks: LockManager;

  /** `dir` is `<network run dir>/ipam`; the run directory's locks guard it. */
  constructor(dir: string, locks: LockManager) {
    this.#dir = dir;
    this.#locks = locks;
  }

  /** Runs `fn` holding this runtime's lock and the cross-process one. */
  #locked<T>(fn: () => Promise<T>, context: string): ResultAsync<T, LibpodError> {
    return this.#locks.withLock(LOCK, () =>
      attempt(async () => (await runDirLocks(dirname(this.#dir))).with(IPAM_LOCK, fn), 'Internal', context),
    );
  }

  #path(network: string): string {
    return join(this.#dir, `${network}.json`);
  }

  async #read(network: string): Promise<IpamFile> {
    try {
      const v = JSON.parse(await readFile(this.#path(network), 'utf8')) as Partial<IpamFile>;
      return { allocations: { ...(v.allocations ?? {}) }, last: { ...(v.last ?? {}) } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return { allocations: {}, last: {} };
      throw e;
    }
  }

  async #write(network: string, f: IpamFile): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.#path(network)}.tmp`;
    await writeFile(tmp, JSON.stringify(f), { mode: 0o600 });
    await rename(tmp, this.#path(network));
  }

  /**
   * Gives container `ctrId` its addresses on `net`: `staticIPs` when given
   * (each inside a subnet, not the gateway, free), else the next free one of
   * every subnet. Addresses it already holds there are released first.
   */
  allocate(ctrId: string, net: NetworkConfig, staticIPs: readonly string[]): ResultAsync<string[], LibpodError> {
    return this.#locked(async () => {
      const f = await this.#read(net.name);
      for (const [ip, owner] of Object.entries(f.allocations)) if (owner === ctrId) delete f.allocations[ip];
      const out = staticIPs.length > 0 ? takeStatic(f, ctrId, net, staticIPs) : takeNext(f, ctrId, net);
      await this.#write(net.name, f);
      return out;
    }, `allocating an address on network ${net.name}`);
  }

  /** Releases what `ctrId` holds on network `name` (nothing held: nothing to do). */
  release(ctrId: string, name: string): ResultAsync<void, LibpodError> {
    return this.#locked(async () => {
      const f = await this.#read(name);
      let changed = false;
      for (const [ip, owner] of Object.entries(f.allocations)) {
        if (owner === ctrId) {
          delete f.allocations[ip];
          changed = true;
        }
      }
      if (changed) await this.#write(name, f);
    }, `releasing addresses on network ${name}`);
  }

  /** Addresses held on network `name`, by address. */
  allocations(name: string): ResultAsync<Record<string, string>, LibpodError> {
    return attempt(async () => (await this.#read(name)).allocations, 'Internal', `reading allocations of network ${name}`);
  }

  /** Releases every address held by a container not in `live` (what a crash between an allocation and its record left). */
  releaseAllBut(live: ReadonlySet<string>): ResultAsync<void, LibpodError> {
    return this.#locked(async () => {
      let files: string[] = [];
      try {
        files = await readdir(this.#dir);
      } catch {
        return;
      }
      for (const file of files.filter((x) => x.endsWith('.json'))) {
        const name = file.slice(0, -'.json'.length);
        const f = await this.#read(name);
        const before = Object.keys(f.allocations).length;
        for (const [ip, owner] of Object.entries(f.allocations)) if (!live.has(owner)) delete f.allocations[ip];
        if (Object.keys(f.allocations).length !== before) await this.#write(name, f);
      }
    }, 'releasing stale address allocations');
  }

  /** Forgets network `name` entirely (it was removed). */
  drop(name: string): ResultAsync<void, LibpodError> {
    return this.#locked(() => rm(this.#path(name), { force: true }), `dropping allocations of network ${name}`);
  }
}

function takeStatic(f: IpamFile, ctrId: string, net: NetworkConfig, staticIPs: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of staticIPs) {
    const ip = parseIPv4(text);
    if (ip === undefined) throw libpodError('InvalidArg', `static IP ${JSON.stringify(text)} is not an IPv4 address`);
    const subnet = net.subnets.find((s) => {
      const c = parseCidr(s.subnet);
      return c !== undefined && contains(c, ip);
    });
    if (!subnet) throw libpodError('InvalidArg', `requested static ip ${text} not in any subnet on network ${net.name}`);
    const c = parseCidr(subnet.subnet)!;
    const range = usableRange(c);
    if (ip < range.first || ip > range.last || text === subnet.gateway) {
      throw libpodError('InvalidArg', `requested static ip ${text} is the gateway, network or broadcast address of network ${net.name}`);
    }
    const owner = f.allocations[text];
    if (owner !== undefined && owner !== ctrId) {
      throw libpodError('InvalidArg', `IPAM error: requested ip address ${text} is already allocated to container ID ${owner}`);
    }
    f.allocations[text] = ctrId;
    out.push(text);
  }
  return out;
}

function takeNext(f: IpamFile, ctrId: string, net: NetworkConfig): string[] {
  return net.subnets.map((s) => {
    const c = parseCidr(s.subnet);
    if (!c) throw libpodError('Internal', `network ${net.name} has an invalid subnet ${s.subnet}`);
    const { first, last } = usableRange(c);
    const count = last - first + 1;
    const lastIP = parseIPv4(f.last[s.subnet]);
    const start = lastIP !== undefined && lastIP >= first && lastIP <= last ? lastIP + 1 : first;
    for (let i = 0; i < count; i++) {
      const ip = first + ((start - first + i) % count);
      const text = formatIPv4(ip);
      if (text === s.gateway || f.allocations[text] !== undefined) continue;
      f.allocations[text] = ctrId;
      f.last[s.subnet] = text;
      return text;
    }
    throw libpodError('Internal', `IPAM error: failed to find free IP address in subnet ${s.subnet} of network ${net.name}`);
  });
}

/** Whether `ips` all lie in `net`'s subnets (for early checks of static IPs). */
export function checkStaticIPs(net: NetworkConfig, ips: readonly string[]): LibpodError | undefined {
  for (const text of ips) {
    const ip = parseIPv4(text);
    if (ip === undefined) return libpodError('InvalidArg', `static IP ${JSON.stringify(text)} is not an IPv4 address`);
    if (!net.subnets.some((s) => {
      const c = parseCidr(s.subnet);
      return c !== undefined && contains(c, ip);
    })) {
      return libpodError('InvalidArg', `requested static ip ${text} not in any subnet on network ${net.name}`);
    }
  }
  return undefined;
}

