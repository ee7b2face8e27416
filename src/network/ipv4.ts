/**
 * IPv4 arithmetic for subnets and address allocation: addresses as unsigned
 * 32-bit numbers, CIDRs as `{ base, prefix }`. Pure.
 * @module
 */

/** An IPv4 network: its first address and prefix length. */
export interface Cidr {
  /** The network address (host bits zero). */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted quad; `undefined` when malformed. */
export function parseIPv4(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats an address as a dotted quad. */
export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The mask of a prefix length, as a number. */
function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Parses `a.b.c.d/n`; `undefined` when malformed. The host bits are cleared. */
export function parseCidr(text: unknown): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const [addr, len, ...rest] = text.split('/');
  if (rest.length > 0 || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const prefix = Number(len);
  const ip = parseIPv4(addr);
  if (ip === undefined || prefix > 32) return undefined;
  return { base: ip - (ip % size(prefix)), prefix };
}

/** `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** The last address (broadcast) of a network. */
export function lastAddress(c: Cidr): number {
  return c.base + size(c.prefix) - 1;
}

/** Whether `ip` lies inside `c`. */
export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip <= lastAddress(c);
}

/** Whether two networks share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** The addresses a container may get: not the network or broadcast address (for prefixes below /31). */
export function usableRange(c: Cidr): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.base, last: lastAddress(c) };
  return { first: c.base + 1, last: lastAddress(c) - 1 };
}
