/**
 * Pure parsers for what the leak checker reads from the host: `/proc/<pid>/stat`,
 * `/proc/<pid>/cmdline`, `/proc/self/mountinfo` and `runc list --format json`,
 * plus the classification of processes into the kinds an engine leaves behind.
 * No I/O here, so the unit tests feed sample text.
 * @module
 */
import { basename } from 'node:path';

// The engine's own mountinfo parser: one parser for src and tests.
export { parseMountInfo, type MountEntry } from '../../../src/host/mountinfo.js';

/** One process as read from `/proc`. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  /** One-letter state from `stat` (`R`, `S`, `D`, `Z`, ...). */
  state: string;
  /** The kernel's short name (`comm`, at most 15 characters). */
  comm: string;
  /** Start time in clock ticks since boot: tells a reused pid from the original. */
  startTime: number;
  /** argv; empty for kernel threads. */
  cmdline: string[];
  /** The `/proc/<pid>/ns/mnt` link (`mnt:[4026531840]`), when readable. */
  mntNs?: string;
}

/** What kind of engine process a tracked process is. */
export type TrackedKind = 'conmon' | 'runc' | 'catatonit' | 'container';

/** A process the leak checker cares about. */
export interface TrackedProcess extends ProcEntry {
  kind: TrackedKind;
  /** Pids of its ancestors, parent first, up to (not including) pid 1 or pid 0. */
  ancestors: number[];
}

/** One container of `runc list --format json`. */
export interface RuncContainer {
  id: string;
  pid: number;
  status: string;
  bundle: string;
  created: string;
}

/**
 * Parses `/proc/<pid>/stat`. `comm` may hold spaces and parentheses, so the
 * fields are split after the last `)`. `undefined` for malformed text.
 */
export function parseStat(text: string): Pick<ProcEntry, 'pid' | 'comm' | 'state' | 'ppid' | 'startTime'> | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 on (state, ppid, ...); starttime is field 22.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || state === undefined || !Number.isInteger(ppid) || !Number.isFinite(startTime)) return undefined;
  return { pid, comm: text.slice(open + 1, close), state, ppid, startTime };
}

/** Splits `/proc/<pid>/cmdline` (NUL-separated, NUL-terminated) into argv. */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Whether a process is gone but not yet reaped (PID 1 here reaps lazily). */
export function isDead(p: Pick<ProcEntry, 'state'>): boolean {
  return p.state === 'Z' || p.state === 'X' || p.state === 'x';
}

/** Parses `runc list --format json` (`null` when there are none). Throws on bad JSON. */
export function parseRuncList(stdout: string): RuncContainer[] {
  const trimmed = stdout.trim();
  if (trimmed === '' || trimmed === 'null') return [];
  const parsed: unknown = JSON.parse(trimmed);
  if (!Array.isArray(parsed)) throw new Error(`runc list: expected a JSON array, got ${trimmed.slice(0, 80)}`);
  return parsed.map((raw: Record<string, unknown>) => ({
    id: String(raw['id'] ?? ''),
    pid: Number(raw['pid'] ?? 0),
    status: String(raw['status'] ?? ''),
    bundle: String(raw['bundle'] ?? ''),
    created: String(raw['created'] ?? ''),
  }));
}

/** The engine kind a process's own name says it is, if any. */
function kindByName(p: ProcEntry): TrackedKind | undefined {
  const names = [p.comm, p.cmdline[0] === undefined ? '' : basename(p.cmdline[0])];
  if (names.includes('conmon')) return 'conmon';
  if (names.includes('catatonit')) return 'catatonit';
  // runc's init re-execs itself as `runc:[1:CHILD]`, `runc:[2:INIT]`.
  if (names.some((n) => n === 'runc' || n.startsWith('runc:['))) return 'runc';
  return undefined;
}

/** Pids of `pid`'s ancestors, parent first, stopping at pid 1 / 0 or a loop. */
export function ancestorsOf(pid: number, byPid: ReadonlyMap<number, ProcEntry>): number[] {
  const chain: number[] = [];
  let cur = byPid.get(pid)?.ppid ?? 0;
  while (cur > 1 && cur !== pid && !chain.includes(cur)) {
    chain.push(cur);
    cur = byPid.get(cur)?.ppid ?? 0;
  }
  return chain;
}

/**
 * Picks the processes an engine leaves behind from a full process table:
 * conmon, runc (and its init stages), catatonit, and container processes —
 * descendants of a conmon, or user processes in another mount namespace than
 * `ownMntNs` (a container whose conmon is gone). Zombies are ignored.
 */
export function classifyProcesses(all: readonly ProcEntry[], ownMntNs: string | undefined): TrackedProcess[] {
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const tracked: TrackedProcess[] = [];
  for (const p of all) {
    if (isDead(p) || p.cmdline.length === 0) continue;
    const ancestors = ancestorsOf(p.pid, byPid);
    let kind = kindByName(p);
    const underConmon = ancestors.some((a) => {
      const q = byPid.get(a);
      return q !== undefined && kindByName(q) === 'conmon';
    });
    if (kind === undefined && underConmon) kind = 'container';
    if (kind === undefined && ownMntNs !== undefined && p.mntNs !== undefined && p.mntNs !== ownMntNs) kind = 'container';
    if (kind !== undefined) tracked.push({ ...p, kind, ancestors });
  }
  return tracked;
}
