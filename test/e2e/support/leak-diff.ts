/**
 * What changed between two host snapshots, and how to say it: the pure half
 * of the leak checker (the I/O half is `leaks.ts`).
 * @module
 */
import type { MountEntry, RuncContainer, TrackedProcess } from './proc-parse.js';

/** The host as the leak checker sees it at one moment. */
export interface HostSnapshot {
  takenAt: Date;
  /** conmon, runc, catatonit and container processes (zombies left out). */
  processes: TrackedProcess[];
  /** Every mount point of this process's mount namespace. */
  mounts: MountEntry[];
  /** Containers per runc root, for the roots asked about (a root that does not exist lists none). */
  runc: Record<string, RuncContainer[]>;
}

/** Which differences count as leaks. */
export interface LeakScope {
  /** Only mounts at or below these directories count (default: every new mount). */
  roots?: string[];
  /** runc roots whose new containers count. */
  runcRoots?: string[];
  /**
   * `'related'` (the default when `roots` or `runcRoots` are given): only new
   * processes whose argv, or an ancestor's, names one of those directories, plus
   * container processes no conmon watches any more; other tests' containers on the
   * same host are left alone. `'all'`: every new tracked process.
   */
  processes?: 'related' | 'all';
}

/** The leaks found. */
export interface Leaks {
  processes: TrackedProcess[];
  mounts: MountEntry[];
  runc: { root: string; container: RuncContainer }[];
}

/** Whether `path` is `dir` or below it. */
export function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(d === '/' ? '/' : `${d}/`);
}

const procKey = (p: TrackedProcess): string => `${p.pid}:${p.startTime}`;
const mountKey = (m: MountEntry): string => `${m.id}:${m.mountPoint}`;
const runcKey = (c: RuncContainer): string => `${c.id}:${c.created}`;

function relatedProcesses(procs: readonly TrackedProcess[], dirs: readonly string[]): TrackedProcess[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const mentionsDir = (p: TrackedProcess | undefined): boolean => p !== undefined && p.cmdline.some((arg) => dirs.some((d) => arg.includes(d)));
  return procs.filter((p) => {
    if (mentionsDir(p) || p.ancestors.some((a) => mentionsDir(byPid.get(a)))) return true;
    // A container process without a watching conmon belongs to no one: always a leak.
    return p.kind === 'container' && !p.ancestors.some((a) => byPid.get(a)?.kind === 'conmon');
  });
}

/** The processes, mounts and runc containers in `after` that `before` did not have, within `scope`. */
export function findLeaks(before: HostSnapshot, after: HostSnapshot, scope: LeakScope = {}): Leaks {
  const roots = scope.roots ?? [];
  const runcRoots = scope.runcRoots ?? [];
  const dirs = [...roots, ...runcRoots];
  const mode = scope.processes ?? (dirs.length > 0 ? 'related' : 'all');

  const oldProcs = new Set(before.processes.map(procKey));
  // Relatedness looks at every current process: a new runc may run under an old conmon.
  const candidates = mode === 'all' ? after.processes : relatedProcesses(after.processes, dirs);
  const processes = candidates.filter((p) => !oldProcs.has(procKey(p)));

  const oldMounts = new Set(before.mounts.map(mountKey));
  const mounts = after.mounts.filter(
    (m) => !oldMounts.has(mountKey(m)) && (roots.length === 0 || roots.some((r) => isUnder(m.mountPoint, r))),
  );

  const runc: Leaks['runc'] = [];
  for (const root of runcRoots) {
    const old = new Set((before.runc[root] ?? []).map(runcKey));
    for (const container of after.runc[root] ?? []) {
      if (!old.has(runcKey(container))) runc.push({ root, container });
    }
  }
  return { processes, mounts, runc };
}

/** Whether anything leaked. */
export function hasLeaks(leaks: Leaks): boolean {
  return leaks.processes.length + leaks.mounts.length + leaks.runc.length > 0;
}

function shorten(s: string, max = 240): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** A readable report of `leaks`, one item a line. */
export function formatLeaks(leaks: Leaks, graceMs: number): string {
  const lines = [`host resources leaked (still there after ${graceMs} ms):`];
  if (leaks.processes.length > 0) {
    lines.push(`  processes (${leaks.processes.length}):`);
    for (const p of leaks.processes) {
      lines.push(`    ${p.kind} pid ${p.pid} (ppid ${p.ppid}, state ${p.state}): ${shorten(p.cmdline.join(' '))}`);
    }
  }
  if (leaks.mounts.length > 0) {
    lines.push(`  mounts (${leaks.mounts.length}):`);
    for (const m of leaks.mounts) lines.push(`    ${m.mountPoint} (${m.fsType} from ${m.source})`);
  }
  if (leaks.runc.length > 0) {
    lines.push(`  runc containers (${leaks.runc.length}):`);
    for (const { root, container: c } of leaks.runc) {
      lines.push(`    ${c.id} ${c.status} pid ${c.pid} (runc --root ${root}; bundle ${c.bundle})`);
    }
  }
  return lines.join('\n');
}
