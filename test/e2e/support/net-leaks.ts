/**
 * Network leaks: what a networking test may leave on the host (bridges and
 * the veths on them, firewall rules naming its subnets, bridges or ports,
 * aardvark-dns processes of its roots). Compared with a snapshot taken
 * before the test. Network namespaces are bind mounts below the test's
 * roots: `leaks.ts`'s mount check finds those.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/** The host's network state that a test can leak. */
export interface NetSnapshot {
  interfaces: string[];
  /** The bridge each enslaved interface hangs on (a container's host-side veth). */
  masters: Record<string, string>;
  rules: string[];
  aardvark: { pid: number; cmdline: string }[];
}

function iptablesRules(): string[] {
  const out: string[] = [];
  for (const table of ['nat', 'filter']) {
    try {
      out.push(...execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('-A ')).map((l) => `${table} ${l}`));
    } catch {
      // no iptables: nothing to compare
    }
  }
  return out;
}

function aardvarkProcesses(): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (/aardvark-dns/.test(readlinkSync(`/proc/${d}/exe`)) || cmdline.includes('aardvark-dns')) out.push({ pid: Number(d), cmdline });
    } catch {
      // gone
    }
  }
  return out;
}

/** The bridge an interface is enslaved to (a container's host-side veth), if any. */
function masterOf(iface: string): string | undefined {
  try {
    return basename(readlinkSync(`/sys/class/net/${iface}/master`));
  } catch {
    return undefined;
  }
}

/** The host's interfaces (with their bridges), firewall rules and aardvark-dns processes now. */
export function snapshotNet(): NetSnapshot {
  const interfaces = readdirSync('/sys/class/net');
  const masters: Record<string, string> = {};
  for (const i of interfaces) {
    const m = masterOf(i);
    if (m !== undefined) masters[i] = m;
  }
  return { interfaces, masters, rules: iptablesRules(), aardvark: aardvarkProcesses() };
}

/** What a test owns: its roots (aardvark-dns's config is below them), subnets, bridges and published host ports. */
export interface NetScope {
  roots: string[];
  subnets: string[];
  bridges: string[];
  ports?: number[];
}

/**
 * What appeared between `before` and `now` and belongs to `scope` (pure):
 * its bridges and the veths on them, firewall rules naming its subnets,
 * bridges or ports, aardvark-dns processes of its roots. Others' (tests
 * running meanwhile) are not its leaks.
 */
export function diffNet(before: NetSnapshot, now: NetSnapshot, scope: NetScope): string[] {
  const leaks: string[] = [];
  for (const i of now.interfaces) {
    if (!before.interfaces.includes(i) && (scope.bridges.includes(i) || scope.bridges.includes(now.masters[i] ?? ''))) leaks.push(`interface ${i}`);
  }
  const prefixes = scope.subnets.map((s) => s.split('/')[0]!.split('.').slice(0, 3).join('.') + '.');
  const ports = (scope.ports ?? []).map((p) => `--dport ${p} `);
  for (const r of now.rules) {
    if (before.rules.includes(r)) continue;
    if (prefixes.some((p) => r.includes(p)) || scope.bridges.some((b) => r.includes(b)) || ports.some((p) => `${r} `.includes(p))) leaks.push(`rule ${r}`);
  }
  for (const a of now.aardvark) if (scope.roots.some((r) => a.cmdline.includes(r)) && !before.aardvark.some((b) => b.pid === a.pid)) leaks.push(`aardvark-dns ${a.pid}: ${a.cmdline}`);
  return leaks;
}

/** What appeared since `before` and is still there, limited to what `scope` names. */
export function netLeaks(before: NetSnapshot, scope: NetScope): string[] {
  return diffNet(before, snapshotNet(), scope);
}

/** Fails listing the network leaks still there after `graceMs`. */
export async function assertNoNetLeaks(before: NetSnapshot, scope: NetScope, graceMs = 5000): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const leaks = netLeaks(before, scope);
    if (leaks.length === 0) return;
    if (Date.now() >= deadline) assert.fail(`network leaks:\n${leaks.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
