/**
 * Validation of `ContainerCreateOptions`: bad input gets `InvalidArg` with a
 * message naming the option, and the validated options become the stored
 * {@link ContainerConfig} (the options as given plus defaults).
 * @module
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { DEFAULT_STOP_TIMEOUT, type ContainerConfig, type ContainerCreateOptions } from '../define/config.js';
import { libpodError, type LibpodError } from '../define/errors.js';
import { validateName } from '../define/ids.js';
import { parseSignal } from '../define/signals.js';
import { checkSeccompOption } from './seccomp.js';
import { checkNetworkCombination, defaultNetworkMode, NETWORK_OPTION_CHECKS } from './network-options.js';
import { stringMap as stringMapCheck } from '../util/validate.js';

const KNOWN_OPTIONS = new Set<string>([
  'name', 'rootfs', 'image', 'entrypoint', 'pullPolicy', 'rootfsOverlay', 'command', 'env', 'workDir', 'user', 'terminal', 'stdin', 'labels',
  'annotations', 'stopSignal', 'stopTimeout', 'restartPolicy', 'restartRetries', 'dependencies', 'pod',
  'volumes', 'mounts', 'network', 'privileged', 'capAdd', 'capDrop', 'readOnly', 'resources', 'healthCheck',
  'hooksDir', 'seccompProfile', 'networks', 'ports', 'dns', 'hostname', 'hosts',
]);

const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;

type Check = Result<void, LibpodError>;
const fine: Check = ok(undefined);

function invalid(message: string): Check {
  return err(libpodError('InvalidArg', message));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, what: string, nonEmpty = false): Check {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return invalid(`${what} must be an array of strings`);
  if (nonEmpty && (v.length === 0 || v[0] === '')) return invalid(`${what} must name at least a program to run`);
  return fine;
}

function stringMap(v: unknown, what: string): Check {
  return stringMapCheck(v) === undefined ? fine : invalid(`${what} must be an object of string values`);
}

function boolOpt(v: unknown, what: string): Check {
  return v === undefined || typeof v === 'boolean' ? fine : invalid(`${what} must be a boolean`);
}

/** A non-negative integer option (seconds, counts), `undefined` allowed. */
export function checkCount(v: unknown, what: string): Check {
  if (v === undefined) return fine;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? fine : invalid(`${what} must be a non-negative integer, got ${String(v)}`);
}

function absolutePath(v: unknown, what: string): Check {
  return typeof v === 'string' && isAbsolute(v) ? fine : invalid(`${what} must be an absolute path, got ${JSON.stringify(v)}`);
}

function checkRootfs(v: unknown): Check {
  const abs = absolutePath(v, 'rootfs');
  if (abs.isErr()) return abs;
  try {
    if (!statSync(v as string).isDirectory()) return invalid(`rootfs ${String(v)} is not a directory`);
  } catch {
    return invalid(`rootfs ${String(v)} does not exist`);
  }
  return fine;
}

function checkVolumes(v: unknown): Check {
  if (!Array.isArray(v)) return invalid('volumes must be an array of { name, dest, options? }');
  for (const vol of v) {
    if (!isPlainObject(vol)) return invalid('volumes must be an array of { name, dest, options? }');
    const name = validateName(vol.name, 'volume');
    if (name.isErr()) return err(name.error);
    const dest = absolutePath(vol.dest, `volume ${String(vol.name)} dest`);
    if (dest.isErr()) return dest;
    if (vol.options !== undefined) {
      const o = stringArray(vol.options, `volume ${String(vol.name)} options`);
      if (o.isErr()) return o;
    }
  }
  return fine;
}

function checkMounts(v: unknown): Check {
  if (!Array.isArray(v)) return invalid('mounts must be an array of { source, destination, type?, options? }');
  for (const m of v) {
    if (!isPlainObject(m)) return invalid('mounts must be an array of { source, destination, type?, options? }');
    const type = m.type ?? 'bind';
    if (type !== 'bind' && type !== 'tmpfs') return invalid(`mount type must be 'bind' or 'tmpfs', got ${String(m.type)}`);
    const dest = absolutePath(m.destination, 'mount destination');
    if (dest.isErr()) return dest;
    if (type === 'bind') {
      const src = absolutePath(m.source, 'bind mount source');
      if (src.isErr()) return src;
    } else if (typeof m.source !== 'string') {
      return invalid('tmpfs mount source must be a string (e.g. "tmpfs")');
    }
    if (m.options !== undefined) {
      const o = stringArray(m.options, `mount ${String(m.destination)} options`);
      if (o.isErr()) return o;
    }
  }
  return fine;
}

function checkResources(v: unknown): Check {
  if (!isPlainObject(v)) return invalid('resources must be an object');
  for (const [k, x] of Object.entries(v)) {
    if (!['memory', 'cpuShares', 'cpuQuota', 'pids'].includes(k)) return invalid(`unknown resources option "${k}"`);
    if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) return invalid(`resources.${k} must be a positive integer`);
  }
  return fine;
}

function checkHealthCheck(v: unknown): Check {
  if (!isPlainObject(v)) return invalid('healthCheck must be an object with a test array');
  const t = stringArray(v.test, 'healthCheck.test', true);
  if (t.isErr()) return t;
  for (const k of ['interval', 'timeout', 'retries', 'startPeriod']) {
    const c = checkCount(v[k], `healthCheck.${k}`);
    if (c.isErr()) return c;
  }
  return fine;
}

/** Every check of one option, by option name. */
const CHECKS: Record<string, (v: unknown) => Check> = {
  name: (v) => validateName(v, 'container').map(() => undefined),
  rootfs: checkRootfs,
  image: (v) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? fine : invalid('image must be a name, an id or an Image')),
  entrypoint: (v) => stringArray(v, 'entrypoint'),
  pullPolicy: (v) => (['always', 'missing', 'newer', 'never'].includes(v as string) ? fine : invalid("pullPolicy must be one of 'always', 'missing', 'newer', 'never'")),
  rootfsOverlay: (v) => boolOpt(v, 'rootfsOverlay'),
  command: (v) => stringArray(v, 'command', true),
  env: (v) => stringMap(v, 'env'),
  workDir: (v) => absolutePath(v, 'workDir'),
  user: (v) => (typeof v === 'string' && v.length > 0 ? fine : invalid('user must be a non-empty string (uid[:gid] or name[:group])')),
  terminal: (v) => boolOpt(v, 'terminal'),
  stdin: (v) => boolOpt(v, 'stdin'),
  labels: (v) => stringMap(v, 'labels'),
  annotations: (v) => stringMap(v, 'annotations'),
  stopSignal: (v) => parseSignal(v).map(() => undefined),
  stopTimeout: (v) => checkCount(v, 'stopTimeout'),
  restartPolicy: (v) =>
    (RESTART_POLICIES as readonly unknown[]).includes(v) ? fine : invalid(`restartPolicy must be one of ${RESTART_POLICIES.join(', ')}`),
  restartRetries: (v) => checkCount(v, 'restartRetries'),
  dependencies: (v) => stringArray(v, 'dependencies'),
  pod: (v) => (typeof v === 'string' && v.length > 0 ? fine : invalid('pod must be a pod id or name')),
  volumes: checkVolumes,
  mounts: checkMounts,
  ...NETWORK_OPTION_CHECKS,
  privileged: (v) => boolOpt(v, 'privileged'),
  capAdd: (v) => stringArray(v, 'capAdd'),
  capDrop: (v) => stringArray(v, 'capDrop'),
  readOnly: (v) => boolOpt(v, 'readOnly'),
  resources: checkResources,
  healthCheck: checkHealthCheck,
  hooksDir: (v) => absolutePath(v, 'hooksDir'),
  seccompProfile: checkSeccompOption,
};

/**
 * Checks create options and returns the stored config (options as given plus
 * defaults). `name` must be supplied by the caller (generated when absent).
 */
export function validateCreateOptions(opts: unknown, name: string): Result<ContainerConfig, LibpodError> {
  if (!isPlainObject(opts)) return err(libpodError('InvalidArg', 'container options must be an object'));
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) return err(libpodError('InvalidArg', `unknown container option "${key}"`));
  }
  if (opts.rootfs === undefined && opts.image === undefined) {
    return err(libpodError('InvalidArg', 'rootfs or image is required: the host directory or the image to use as the root filesystem'));
  }
  if (opts.rootfs !== undefined && opts.image !== undefined) return err(libpodError('InvalidArg', 'rootfs and image are exclusive: give one'));
  if (opts.image === undefined && (opts.entrypoint !== undefined || opts.pullPolicy !== undefined)) {
    return err(libpodError('InvalidArg', 'entrypoint and pullPolicy need an image'));
  }
  if (opts.command === undefined && opts.image === undefined) return err(libpodError('InvalidArg', 'command is required, e.g. ["/bin/sh", "-c", "echo hi"]'));
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    const check = CHECKS[key]?.(value) ?? fine;
    if (check.isErr()) return err(check.error);
  }
  const net = checkNetworkCombination(opts);
  if (net.isErr()) return err(net.error);
  if (opts.restartRetries !== undefined && opts.restartRetries !== 0 && opts.restartPolicy !== 'on-failure') {
    return err(libpodError('InvalidArg', 'restartRetries is only allowed with restartPolicy "on-failure"'));
  }
  const { image, ...o } = structuredClone(opts) as unknown as ContainerCreateOptions;
  return ok({
    ...o,
    ...(typeof image === 'string' ? { image } : {}),
    name,
    command: o.command ?? [],
    rootfsOverlay: o.rootfsOverlay ?? false,
    env: o.env ?? {},
    workDir: o.workDir ?? '/',
    terminal: o.terminal ?? false,
    stdin: o.stdin ?? false,
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    stopSignal: o.stopSignal ?? 'SIGTERM',
    stopTimeout: o.stopTimeout ?? DEFAULT_STOP_TIMEOUT,
    restartPolicy: o.restartPolicy ?? 'no',
    restartRetries: o.restartRetries ?? 0,
    dependencies: o.dependencies ?? [],
    volumes: o.volumes ?? [],
    mounts: o.mounts ?? [],
    network: o.network ?? defaultNetworkMode(o),
    privileged: o.privileged ?? false,
    capAdd: o.capAdd ?? [],
    capDrop: o.capDrop ?? [],
    readOnly: o.readOnly ?? false,
  });
}
