/**
 * Health checks (libpod `runHealthCheck` / `updateHealthCheckLog`): run the
 * configured test in the running container through exec, and keep the
 * status, the failing streak and the last five results in the state.
 * There is no daemon to run them on a timer: the caller decides when
 * (podman without systemd does the same: `podman healthcheck run`).
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import type { HealthLogEntry, HealthRecord, HealthStatus } from '../define/records.js';
import { queueEvent, save, type CtrSession } from './session.js';

/** Results kept in the log (libpod `MaxHealthCheckNumberLogs`). */
export const MAX_HEALTH_LOGS = 5;
/** Output kept per result (libpod `MaxHealthCheckLogLength`). */
export const MAX_HEALTH_OUTPUT = 500;

/** What one health check run found. */
export interface HealthCheckResult {
  status: HealthStatus;
  /** 0 when the check passed. */
  exitCode: number;
  output: string;
  failingStreak: number;
}

/** The command to run for a health check test (`CMD-SHELL`, `CMD`, or a plain argv). */
export function healthCommand(test: readonly string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (kind === undefined || kind === '' || kind === 'NONE') return undefined;
  const cmd = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : [...test];
  return cmd.length > 0 && cmd[0] !== '' ? cmd : undefined;
}

/** Phase 1, under the lock: the command, or why no check can run. */
export function healthCheckCommand(s: CtrSession): ResultAsync<{ command: string[]; timeoutMs: number }, LibpodError> {
  const hc = s.rec.config.healthCheck;
  const command = hc ? healthCommand(hc.test) : undefined;
  if (!hc || !command) return errAsync(libpodError('InvalidArg', `container ${s.rec.id} has no defined healthcheck`));
  if (s.rec.state.state !== 'running') {
    return improper(`container ${s.rec.id} is not running`);
  }
  return okAsync({ command, timeoutMs: (hc.timeout ?? 30) * 1000 });
}

/** Phase 3, under the lock again: record the result (libpod `updateHealthCheckLog`). */
export function recordHealth(s: CtrSession, entry: HealthLogEntry): ResultAsync<HealthCheckResult, LibpodError> {
  const hc = s.rec.config.healthCheck;
  const st = s.rec.state;
  const health: HealthRecord = st.health ?? { status: 'starting', failingStreak: 0, log: [] };
  const startedAt = st.startedAt ? Date.parse(st.startedAt) : 0;
  const inStartPeriod = (hc?.startPeriod ?? 0) > 0 && Date.parse(entry.start) < startedAt + (hc?.startPeriod ?? 0) * 1000;
  const before = health.status;
  if (entry.exitCode === 0) {
    health.failingStreak = 0;
    health.status = 'healthy';
  } else if (!inStartPeriod) {
    health.failingStreak += 1;
    if (health.failingStreak >= (hc?.retries ?? 3)) health.status = 'unhealthy';
  }
  health.log = [...health.log, { ...entry, output: entry.output.slice(0, MAX_HEALTH_OUTPUT) }].slice(-MAX_HEALTH_LOGS);
  st.health = health;
  queueEvent(s, 'health_status', { attributes: { health_status: health.status, ...(before !== health.status ? { previous: before } : {}) } });
  return save(s).map(() => ({ status: health.status, exitCode: entry.exitCode, output: entry.output, failingStreak: health.failingStreak }));
}
