/**
 * The `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` a container with
 * its own network namespace gets, as podman 4 writes them (containers/common
 * `etchosts` and `resolvconf`). Pure, apart from reading the host's
 * resolv.conf.
 * @module
 */
import { readFileSync } from 'node:fs';

/** What the files are made of. */
export interface EtcInput {
  hostname: string;
  /** The container's name (a second name for its addresses). */
  name: string;
  /** The container's addresses (one per network). */
  addresses: string[];
  /** `host.containers.internal`: the first gateway, when any. */
  hostGateway?: string;
  /** Extra entries (`hosts` option): name → address. */
  hosts: Record<string, string>;
  /** aardvark-dns addresses of the networks with DNS on. */
  dnsServers: string[];
  /** Search domains from the networks (`dns.podman`). */
  searchDomains: string[];
  /** The `dns` option: servers that replace the host's. */
  userDns?: string[];
}

/** /etc/hosts. */
export function hostsFile(i: EtcInput): string {
  const lines = [
    '127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4',
    '::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6',
  ];
  for (const [name, ip] of Object.entries(i.hosts)) lines.push(`${ip}\t${name}`);
  const names = i.hostname === i.name ? i.hostname : `${i.hostname} ${i.name}`;
  for (const ip of i.addresses) lines.push(`${ip}\t${names}`);
  if (i.hostGateway) lines.push(`${i.hostGateway}\thost.containers.internal`);
  return `${lines.join('\n')}\n`;
}

/** The host's nameservers, search domains and options (systemd-resolved's real file when the stub is in use). */
export function hostResolvConf(): { nameservers: string[]; search: string[]; options: string[] } {
  const parse = (text: string) => {
    const out = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
    for (const line of text.split('\n')) {
      const [key, ...rest] = line.trim().split(/\s+/);
      if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
      else if (key === 'search') out.search.push(...rest);
      else if (key === 'options') out.options.push(...rest);
    }
    return out;
  };
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const main = parse(read('/etc/resolv.conf'));
  if (main.nameservers.length > 0 && main.nameservers.every((n) => n.startsWith('127.'))) {
    const real = parse(read('/run/systemd/resolve/resolv.conf'));
    if (real.nameservers.length > 0) return real;
  }
  return main;
}

/** /etc/resolv.conf: aardvark first, then the `dns` option or the host's (loopback ones dropped: unreachable from the namespace). */
export function resolvConfFile(i: EtcInput, host = hostResolvConf()): string {
  const upstream = i.userDns ?? host.nameservers.filter((n) => !n.startsWith('127.') && n !== '::1');
  const servers = [...i.dnsServers, ...upstream];
  const search = [...i.searchDomains, ...host.search];
  const lines: string[] = [];
  if (search.length > 0) lines.push(`search ${[...new Set(search)].join(' ')}`);
  for (const s of [...new Set(servers)]) lines.push(`nameserver ${s}`);
  if (host.options.length > 0) lines.push(`options ${host.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** /etc/hostname. */
export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}
