/**
 * Leak checks for real-container tests: what conmon, runc, catatonit and
 * container processes, mounts and runc containers a test left behind.
 *
 * ```ts
 * const roots = await makeTestRoots();
 * const before = await snapshotHost();
 * // ... open a Runtime on roots.root / roots.runRoot, run containers, close it ...
 * await assertNoLeaks(before, { roots: [roots.dir] });
 * await roots.cleanup();
 * ```
 *
 * Reads `/proc` directly (no `ps`); runs `runc` and `umount` through
 * `src/host/command.ts`. Zombies are ignored: PID 1 on these hosts reaps
 * orphans lazily, so an exited conmon lingers as `Z` for a while.
 * @module
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChecked, runCommand } from '../../../src/host/command.js';
import { findLeaks, formatLeaks, hasLeaks, isUnder, type HostSnapshot, type LeakScope } from './leak-diff.js';
import {
  classifyProcesses,
  parseCmdline,
  parseMountInfo,
  parseRuncList,
  parseStat,
  type MountEntry,
  type ProcEntry,
  type RuncContainer,
  type TrackedProcess,
} from './proc-parse.js';

export type { HostSnapshot, LeakScope, Leaks } from './leak-diff.js';
export type { MountEntry, RuncContainer, TrackedKind, TrackedProcess } from './proc-parse.js';

const RUNC = 'runc';

/** Reads one process; `undefined` when it vanished meanwhile or is unreadable. */
async function readProcess(pid: number): Promise<ProcEntry | undefined> {
  try {
    const [statText, cmdText, mntNs] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readlink(`/proc/${pid}/ns/mnt`).catch(() => undefined),
    ]);
    const stat = parseStat(statText);
    if (stat === undefined) return undefined;
    const entry: ProcEntry = { ...stat, cmdline: parseCmdline(cmdText) };
    if (mntNs !== undefined) entry.mntNs = mntNs;
    return entry;
  } catch {
    return undefined;
  }
}

/** Every process on the host, as `/proc` shows it now. */
export async function readProcessTable(): Promise<ProcEntry[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const entries = await Promise.all(pids.map(readProcess));
  return entries.filter((e): e is ProcEntry => e !== undefined);
}

/** conmon, runc, catatonit and container processes now running (no zombies). */
export async function trackedProcesses(): Promise<TrackedProcess[]> {
  const [table, ownMntNs] = await Promise.all([readProcessTable(), readlink('/proc/self/ns/mnt').catch(() => undefined)]);
  return classifyProcesses(table, ownMntNs);
}

/** The mounts of this process's mount namespace. */
export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** `runc --root <root> list`; a root that does not exist has none (runc would create it). */
export async function listRuncContainers(root: string): Promise<RuncContainer[]> {
  try {
    await readdir(root);
  } catch {
    return [];
  }
  const out = await runCommand(RUNC, ['--root', root, 'list', '--format', 'json'], { timeoutMs: 30_000 });
  if (out.isErr()) throw new Error(`runc --root ${root} list: ${out.error.message}`, { cause: out.error });
  if (out.value.code !== 0) throw new Error(`runc --root ${root} list: ${out.value.stderr.trim() || `exit status ${out.value.code}`}`);
  return parseRuncList(out.value.stdout);
}

/**
 * The engine-related state of the host now: conmon, runc, catatonit and
 * container processes, every mount point, and the containers of `runcRoots`.
 */
export async function snapshotHost(opts: { runcRoots?: string[] } = {}): Promise<HostSnapshot> {
  const runcRoots = opts.runcRoots ?? [];
  const [processes, mounts, lists] = await Promise.all([trackedProcesses(), readMounts(), Promise.all(runcRoots.map(listRuncContainers))]);
  const runc: Record<string, RuncContainer[]> = {};
  runcRoots.forEach((root, i) => {
    runc[root] = lists[i] ?? [];
  });
  return { takenAt: new Date(), processes, mounts, runc };
}

/** Options of {@link assertNoLeaks}. */
export interface AssertNoLeaksOptions extends LeakScope {
  /** How long leaks may take to go away (conmon exits a little after its container). Default 5000 ms. */
  graceMs?: number;
  /** Pause between checks. Default 100 ms. */
  intervalMs?: number;
}

/**
 * Fails (an `AssertionError` listing each leaked process, mount and runc
 * container) when, after up to `graceMs`, the host still has any that
 * `before` did not have. Mounts count only under `roots` when given;
 * processes only when related to `roots`/`runcRoots` (see {@link LeakScope}).
 */
export async function assertNoLeaks(before: HostSnapshot, opts: AssertNoLeaksOptions = {}): Promise<void> {
  const graceMs = opts.graceMs ?? 5_000;
  const deadline = Date.now() + graceMs;
  for (;;) {
    const after = await snapshotHost({ runcRoots: opts.runcRoots ?? [] });
    const leaks = findLeaks(before, after, opts);
    if (!hasLeaks(leaks)) return;
    if (Date.now() >= deadline) assert.fail(formatLeaks(leaks, graceMs));
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Temporary engine roots for one test, see {@link makeTestRoots}. */
export interface TestRoots {
  /** The parent of both roots: pass it as `roots` to {@link assertNoLeaks}. */
  dir: string;
  /** Persistent root (`Runtime.open({ root })`). */
  root: string;
  /** Volatile root (`Runtime.open({ runRoot })`). */
  runRoot: string;
  /**
   * Deletes runc containers found below `dir`, kills conmons naming `dir`,
   * lazily unmounts everything below it and removes it. Idempotent; rejects
   * listing what it could not undo.
   */
  cleanup(): Promise<void>;
}

/**
 * Creates `<tmpdir>/lpts-XXXXXX/{root,run}` (mode 0700). The name is short
 * because conmon's socket paths below `runRoot` must fit in 108 bytes.
 */
export async function makeTestRoots(prefix = 'lpts-'): Promise<TestRoots> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const root = join(dir, 'root');
  const runRoot = join(dir, 'run');
  await mkdir(root, { mode: 0o700 });
  await mkdir(runRoot, { mode: 0o700 });
  return { dir, root, runRoot, cleanup: () => cleanupBelow(dir) };
}

/** runc roots below `dir` (directories holding `<id>/state.json`), not crossing mounts. */
async function findRuncRoots(dir: string, skip: ReadonlySet<string>, depth = 4): Promise<string[]> {
  if (depth < 0 || skip.has(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (entries.some((e) => e.isFile() && e.name === 'state.json')) return [dirname(dir)];
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => findRuncRoots(join(dir, e.name), skip, depth - 1)));
  return [...new Set(nested.flat())];
}

async function deleteRuncContainers(dir: string, mountPoints: ReadonlySet<string>, problems: string[]): Promise<void> {
  for (const root of await findRuncRoots(dir, mountPoints)) {
    const listed = await listRuncContainers(root).catch((e: unknown) => {
      problems.push(String(e));
      return [];
    });
    for (const c of listed) {
      const r = await runChecked(RUNC, ['--root', root, 'delete', '--force', c.id], { errorCode: 'Internal' });
      if (r.isErr()) problems.push(r.error.message);
    }
  }
}

async function killConmons(dir: string): Promise<void> {
  for (const p of await trackedProcesses()) {
    if (p.kind !== 'conmon' || !p.cmdline.some((a) => a.includes(dir))) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Lazily unmounts everything below `dir`, deepest first; stacked mounts take several passes. */
async function unmountBelow(dir: string, problems: string[]): Promise<void> {
  let last: string[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const below = (await readMounts()).filter((m) => isUnder(m.mountPoint, dir));
    if (below.length === 0) return;
    below.sort((a, b) => b.mountPoint.length - a.mountPoint.length || b.id - a.id);
    last = [];
    for (const m of below) {
      const r = await runChecked('umount', ['-l', m.mountPoint], { errorCode: 'Internal', notFoundCode: 'Internal' });
      if (r.isErr()) last.push(r.error.message);
    }
  }
  const left = (await readMounts()).filter((m) => isUnder(m.mountPoint, dir));
  if (left.length > 0) problems.push(`still mounted: ${left.map((m) => m.mountPoint).join(', ')}`, ...last);
}

async function cleanupBelow(dir: string): Promise<void> {
  const problems: string[] = [];
  const mountPoints = new Set((await readMounts()).map((m) => m.mountPoint));
  await deleteRuncContainers(dir, mountPoints, problems);
  await killConmons(dir);
  await unmountBelow(dir, problems);
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    problems.push(`rm -rf ${dir}: ${String(e)}`);
  }
  if (problems.length > 0) throw new Error(`cleanup of ${dir} left:\n  ${problems.join('\n  ')}`);
}
