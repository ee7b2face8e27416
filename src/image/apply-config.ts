/**
 * How an image's config becomes a container's, as podman applies it
 * (`pkg/specgen/generate`: makeCommand, image env / labels / volumes /
 * healthcheck defaults), with the caller's options always winning:
 *
 * - command: the entrypoint (caller's `entrypoint`, else the image's; `[""]`
 *   means none) followed by the caller's `command`, else the image's Cmd,
 *   unless the caller set an entrypoint (then the image's Cmd is dropped);
 *   nothing at all is `InvalidArg`;
 * - env: the image's `Env` under the caller's `env`;
 * - workDir, user, stopSignal: the caller's, else the image's;
 * - labels: the image's under the caller's;
 * - Volumes: an anonymous volume for each path no caller volume or mount
 *   covers;
 * - Healthcheck: the image's unless the caller gave one (`NONE`: none);
 *   nanoseconds become seconds.
 * @module
 */
import { posix } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { ContainerConfig, HealthCheckConfig } from '../define/config.js';
import { libpodError, type LibpodError } from '../define/errors.js';
import { parseSignal } from '../define/signals.js';
import type { ContainerImageConfig, ImageHealthcheck } from './formats/config.js';

/** The create options the caller set explicitly (before defaults). */
export type GivenOptions = Readonly<Record<string, unknown>>;

function envMap(entries: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
    else if (eq < 0 && e !== '') out[e] = '';
  }
  return out;
}

/** podman's makeCommand: entrypoint + command, with the image's as fallbacks. */
export function imageCommand(given: GivenOptions, image: ContainerImageConfig): { entrypoint: string[]; command: string[] } | undefined {
  const givenEntrypoint = given.entrypoint as string[] | undefined;
  let entrypoint = givenEntrypoint ?? image.Entrypoint ?? [];
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  let command = (given.command as string[] | undefined) ?? [];
  if (command.length === 0 && (givenEntrypoint === undefined || givenEntrypoint.length === 0)) command = image.Cmd ?? [];
  if (entrypoint.length === 0 && command.length === 0) return undefined;
  return { entrypoint: [...entrypoint], command: [...command] };
}

function seconds(ns: number | undefined): number | undefined {
  return ns === undefined || ns === 0 ? undefined : Math.max(1, Math.ceil(ns / 1e9));
}

/** The image's health check as create options; `undefined` for none or `NONE`. */
export function imageHealthCheck(h: ImageHealthcheck | undefined): HealthCheckConfig | undefined {
  if (!h?.Test || h.Test.length === 0 || h.Test[0] === 'NONE') return undefined;
  const out: HealthCheckConfig = { test: [...h.Test] };
  const interval = seconds(h.Interval);
  const timeout = seconds(h.Timeout);
  const startPeriod = seconds(h.StartPeriod);
  if (interval !== undefined) out.interval = interval;
  if (timeout !== undefined) out.timeout = timeout;
  if (startPeriod !== undefined) out.startPeriod = startPeriod;
  if (h.Retries !== undefined && h.Retries > 0) out.retries = h.Retries;
  return out;
}

/** Image volume paths no caller volume or mount covers. */
function anonymousVolumePaths(config: ContainerConfig, image: ContainerImageConfig): string[] {
  const taken = new Set([...config.volumes.map((v) => posix.normalize(v.dest)), ...config.mounts.map((m) => posix.normalize(m.destination))]);
  return Object.keys(image.Volumes ?? {})
    .map((p) => posix.normalize(p))
    .filter((p) => posix.isAbsolute(p) && !taken.has(p));
}

/**
 * The container config with image `imageId`'s config applied under the
 * caller's options (`given`: what the caller set, before defaults).
 * `volumeName` names each anonymous volume.
 */
export function applyImageConfig(
  config: ContainerConfig,
  given: GivenOptions,
  imageId: string,
  image: ContainerImageConfig,
  volumeName: () => string,
): Result<ContainerConfig, LibpodError> {
  const cmd = imageCommand(given, image);
  if (!cmd) return err(libpodError('InvalidArg', `no command or entrypoint provided, and no CMD or ENTRYPOINT from image ${imageId}`));
  const out: ContainerConfig = { ...config, image: imageId, command: cmd.command };
  if (cmd.entrypoint.length > 0) out.entrypoint = cmd.entrypoint;
  else delete out.entrypoint;
  out.env = { ...envMap(image.Env), ...config.env };
  if (given.workDir === undefined && image.WorkingDir) out.workDir = posix.resolve('/', image.WorkingDir);
  if (given.user === undefined && image.User) out.user = image.User;
  if (given.stopSignal === undefined && image.StopSignal) {
    const sig = parseSignal(image.StopSignal);
    if (sig.isOk()) out.stopSignal = image.StopSignal;
  }
  out.labels = { ...(image.Labels ?? {}), ...config.labels };
  if (given.healthCheck === undefined) {
    const hc = imageHealthCheck(image.Healthcheck);
    if (hc) out.healthCheck = hc;
  }
  const anon = anonymousVolumePaths(config, image);
  if (anon.length > 0) out.volumes = [...config.volumes, ...anon.map((dest) => ({ name: volumeName(), dest }))];
  return ok(out);
}
