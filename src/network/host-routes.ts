/**
 * What the host already uses, so a new network avoids it: its IPv4 routes
 * (`/proc/net/route`) and its interface names (`/sys/class/net`).
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Cidr } from './ipv4.js';

/** Parses /proc/net/route: each route's destination network (the default route excluded). */
export function parseRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = parseInt(f[1] as string, 16);
    const mask = parseInt(f[7] as string, 16);
    if (!Number.isFinite(dest) || !Number.isFinite(mask) || mask === 0) continue;
    // The kernel prints both in host (little-endian) byte order.
    const swap = (n: number): number => (((n & 0xff) << 24) >>> 0) + ((n >>> 8) & 0xff) * 65536 + ((n >>> 16) & 0xff) * 256 + ((n >>> 24) & 0xff);
    const m = swap(mask);
    let prefix = 0;
    while (prefix < 32 && m & (2 ** (31 - prefix))) prefix += 1;
    out.push({ base: swap(dest), prefix });
  }
  return out;
}

/** The host's IPv4 routes (empty when unreadable). */
export async function hostRoutes(): Promise<Cidr[]> {
  try {
    return parseRoutes(await readFile('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}

/** The host's interface names (empty when unreadable). */
export async function hostInterfaces(): Promise<Set<string>> {
  try {
    return new Set(await readdir('/sys/class/net'));
  } catch {
    return new Set();
  }
}
