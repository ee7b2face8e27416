/**
 * Process liveness as this host needs it: PID 1 here reaps orphans lazily, so
 * an exited conmon lingers as a zombie (`Z`) and `kill(pid, 0)` still
 * succeeds on it. A zombie counts as dead; the comm name guards against a
 * reused pid.
 * @module
 */
import { readFile } from 'node:fs/promises';

/** What `/proc/<pid>/stat` says about a process. */
export interface ProcStat {
  /** One-letter state (`R`, `S`, `D`, `T`, `Z`, `X`, ...). */
  state: string;
  /** The kernel's short name (at most 15 characters). */
  comm: string;
}

/** Parses `/proc/<pid>/stat` text (comm may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const state = text.slice(close + 2, close + 3);
  return state === '' ? undefined : { state, comm: text.slice(open + 1, close) };
}

/** The process's state, or `undefined` when there is no such process. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs and is not a zombie (and, with `comm`, has that name). */
export async function isAlive(pid: number, comm?: string): Promise<boolean> {
  const st = await procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return comm === undefined || st.comm === comm;
}

/** Reads a decimal pid file; `undefined` when missing or not a positive number. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`; `false` when the process is gone (ESRCH). Other errors throw. */
export function signalPid(pid: number, signal: number | NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Resolves `undefined` after `ms` without keeping Node alive. */
export function delay(ms: number): Promise<undefined> {
  return new Promise<undefined>((resolve) => {
    setTimeout(() => resolve(undefined), ms).unref();
  });
}
