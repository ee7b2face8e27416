/**
 * Generating the OCI runtime spec (config.json) of a container, as podman's
 * `specgen` + libpod's `generateSpec` build it, and the process of an exec
 * session. Reads the rootfs's /etc/passwd and /etc/group (user lookup), the
 * host's limits and capability bounding set, and checks bind sources exist;
 * everything else is pure.
 * @module
 */
import { isAbsolute } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerConfig } from '../define/config.js';
import type { OciCapabilities, OciLinux, OciNamespace, OciProcess, OciResources, OciRlimit, OciSpec } from '../oci/oci-spec-types.js';
import { mergeCapabilities, normalizeCapability, processCapabilities } from './oci-spec-caps.js';
import {
  CPU_PERIOD,
  DEFAULT_CAPABILITIES,
  DEFAULT_CGROUP_PARENT,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH,
  DEFAULT_PIDS_LIMIT,
  DEFAULT_READONLY_PATHS,
  OCI_VERSION,
  RLIMIT_DEFAULT_VALUE,
} from './oci-spec-defaults.js';
import { STDIN_ANNOTATION } from '../oci/oci-runtime.js';
import { readHostCapabilities, readHostDevices, readHostRlimits, type HostRlimits } from './oci-spec-host.js';
import { buildMounts, type VolumeMount } from './oci-spec-mounts.js';
import { resolveUser, type ExecUser } from './user.js';
import { seccompFromProfile, type SeccompProfile } from './seccomp.js';

export { readHostRlimits, type HostRlimits } from './oci-spec-host.js';
export type { VolumeMount } from './oci-spec-mounts.js';

/** Namespace kinds a container can join by path (a pod infra's `/proc/<pid>/ns/<kind>`). */
export type JoinableNamespace = 'net' | 'ipc' | 'uts' | 'pid' | 'cgroup';

/** What {@link generateSpec} needs. */
export interface SpecInput {
  /** The container id (64 hex characters). */
  id: string;
  /** The stored container configuration. */
  config: ContainerConfig;
  /** Absolute path of the mounted root filesystem (overlay merged dir or the rootfs itself). */
  rootfsPath: string;
  /** Hostname; default: the first 12 characters of the id (omitted when joining a UTS namespace). */
  hostname?: string;
  /** Namespaces to join instead of creating, by kind. */
  namespacePaths?: Partial<Record<JoinableNamespace, string>>;
  /** Named volumes, already resolved to host directories. */
  volumeMounts: VolumeMount[];
  /** cgroup parent (default `/libpod_parent`); the container's cgroup is `<parent>/libpod-<id>`. */
  cgroupParent?: string;
  /** This process's limits (see {@link readHostRlimits}); read from /proc when absent. */
  hostRlimits?: HostRlimits;
  /** This process's capability bounding set (what `privileged` and `ALL` mean); read from /proc when absent. */
  hostCapabilities?: string[];
  /** The seccomp profile to apply (see `chooseSeccompProfile`); none: no filter. */
  seccompProfile?: SeccompProfile;
}

/** Options of {@link execProcess}. */
export interface ExecProcessOptions {
  /** The command and its arguments (non-empty). */
  command: string[];
  /** Variables set on top of the container's environment. */
  env?: Record<string, string>;
  /** User to run as; default: the container's user. */
  user?: string;
  /** Working directory (absolute); default: the container's. */
  workDir?: string;
  /** Allocate a terminal. */
  tty: boolean;
  /** All capabilities of the host's bounding set, no `noNewPrivileges`. */
  privileged: boolean;
  /** The mounted root filesystem, for the user lookup. */
  rootfsPath: string;
  /** This process's capability bounding set; read from /proc when absent. */
  hostCapabilities?: string[];
}

function invalid(message: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', message));
}

function checkCommand(command: unknown): Result<string[], LibpodError> {
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    return invalid('command must be a non-empty array of strings');
  }
  return ok([...(command as string[])]);
}

function checkEnv(env: Record<string, string> | undefined): Result<[string, string][], LibpodError> {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\0') || typeof v !== 'string' || v.includes('\0')) {
      return invalid(`invalid environment variable ${JSON.stringify(k)}`);
    }
    out.push([k, v]);
  }
  return ok(out);
}

/** Sets `key` in a KEY=VALUE list: replaces the first occurrence (getenv returns the first) or appends. */
function setEnv(list: string[], key: string, value: string): void {
  const i = list.findIndex((e) => e.startsWith(`${key}=`));
  if (i >= 0) list[i] = `${key}=${value}`;
  else list.push(`${key}=${value}`);
}

function hasEnv(list: readonly string[], key: string): boolean {
  return list.some((e) => e.startsWith(`${key}=`));
}

function rlimits(host: HostRlimits | undefined): OciRlimit[] {
  // Without CAP_SYS_RESOURCE nothing above the current hard limit can be set.
  const cap = (hard: number): number => Math.min(RLIMIT_DEFAULT_VALUE, hard);
  const nofile = host ? cap(host.nofile.hard) : 1024;
  const nproc = host ? cap(host.nproc.hard) : 4096;
  return [
    { type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile },
    { type: 'RLIMIT_NPROC', soft: nproc, hard: nproc },
  ];
}

function capabilitySet(config: ContainerConfig, user: ExecUser, hostCaps: readonly string[]): Result<OciCapabilities, LibpodError> {
  const caps = mergeCapabilities(DEFAULT_CAPABILITIES, config.capAdd ?? [], config.capDrop ?? [], hostCaps);
  if (caps.isErr()) return err(caps.error);
  if (config.privileged) return ok(processCapabilities(hostCaps, true, []));
  const userCaps: string[] = [];
  for (const c of config.capAdd ?? []) {
    const n = normalizeCapability(c);
    if (n.isOk()) userCaps.push(...(n.value === 'ALL' ? caps.value : [n.value]));
  }
  return ok(processCapabilities(caps.value, user.uid === 0, userCaps));
}

function buildProcess(input: SpecInput, hostname: string | undefined): Result<OciProcess, LibpodError> {
  const { config } = input;
  const args = checkCommand([...(config.entrypoint ?? []), ...config.command]);
  if (args.isErr()) return err(args.error);
  const cwd = config.workDir || '/';
  if (!isAbsolute(cwd)) return invalid(`invalid working directory ${JSON.stringify(cwd)}: must be an absolute path`);
  const user = resolveUser(input.rootfsPath, config.user);
  if (user.isErr()) return err(user.error);
  const vars = checkEnv(config.env);
  if (vars.isErr()) return err(vars.error);
  const env = [`PATH=${DEFAULT_PATH}`];
  if (config.terminal) env.push('TERM=xterm');
  if (hostname !== undefined) env.push(`HOSTNAME=${hostname}`);
  for (const [k, v] of vars.value) setEnv(env, k, v);
  if (!hasEnv(env, 'HOME')) env.push(`HOME=${user.value.home}`);
  const caps = capabilitySet(config, user.value, input.hostCapabilities ?? readHostCapabilities());
  if (caps.isErr()) return err(caps.error);
  const u = user.value;
  return ok({
    terminal: config.terminal,
    user: { uid: u.uid, gid: u.gid, ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}), ...(u.username ? { username: u.username } : {}) },
    args: args.value,
    env,
    cwd,
    capabilities: caps.value,
    rlimits: rlimits(input.hostRlimits ?? readHostRlimits()),
    noNewPrivileges: !config.privileged,
  });
}

function buildNamespaces(input: SpecInput): OciNamespace[] {
  const paths = input.namespacePaths ?? {};
  const kinds: { kind: OciNamespace['type']; key: JoinableNamespace | undefined }[] = [
    { kind: 'pid', key: 'pid' },
    { kind: 'ipc', key: 'ipc' },
    { kind: 'uts', key: 'uts' },
    { kind: 'mount', key: undefined },
  ];
  if (input.config.network !== 'host' || paths.net !== undefined) kinds.push({ kind: 'network', key: 'net' });
  if (paths.cgroup !== undefined) kinds.push({ kind: 'cgroup', key: 'cgroup' });
  return kinds.map(({ kind, key }) => {
    const path = key === undefined ? undefined : paths[key];
    return path === undefined ? { type: kind } : { type: kind, path };
  });
}

function buildResources(config: ContainerConfig): Result<OciResources, LibpodError> {
  const r = config.resources ?? {};
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  for (const key of ['memory', 'cpuShares', 'cpuQuota', 'pids'] as const) {
    if (r[key] !== undefined && !positive(r[key])) return invalid(`resources.${key} must be a positive integer`);
  }
  const out: OciResources = { devices: [config.privileged ? { allow: true, access: 'rwm' } : { allow: false, access: 'rwm' }] };
  if (r.memory !== undefined) out.memory = { limit: r.memory };
  if (r.cpuShares !== undefined || r.cpuQuota !== undefined) {
    out.cpu = {
      ...(r.cpuShares !== undefined ? { shares: r.cpuShares } : {}),
      ...(r.cpuQuota !== undefined ? { quota: r.cpuQuota, period: CPU_PERIOD } : {}),
    };
  }
  out.pids = { limit: r.pids ?? DEFAULT_PIDS_LIMIT };
  return ok(out);
}

function buildLinux(input: SpecInput): Result<OciLinux, LibpodError> {
  const resources = buildResources(input.config);
  if (resources.isErr()) return err(resources.error);
  const parent = input.cgroupParent ?? DEFAULT_CGROUP_PARENT;
  if (!isAbsolute(parent)) return invalid(`invalid cgroup parent ${JSON.stringify(parent)}: must be an absolute path`);
  const linux: OciLinux = {
    namespaces: buildNamespaces(input),
    resources: resources.value,
    cgroupsPath: `${parent.replace(/\/+$/, '')}/libpod-${input.id}`,
  };
  if (input.config.privileged) {
    linux.devices = readHostDevices();
  } else {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  return ok(linux);
}

/**
 * Builds the runtime spec of a container from its configuration. Invalid
 * input (unknown user or capability, relative paths, missing bind source,
 * duplicate mount destination, bad resources) is `InvalidArg`.
 */
export function generateSpec(input: SpecInput): Result<OciSpec, LibpodError> {
  const { config, id } = input;
  if (typeof input.rootfsPath !== 'string' || !isAbsolute(input.rootfsPath)) {
    return invalid(`invalid root filesystem path ${JSON.stringify(String(input.rootfsPath))}: must be an absolute path`);
  }
  const joinsUts = input.namespacePaths?.uts !== undefined;
  const hostname = input.hostname ?? (joinsUts ? undefined : id.slice(0, 12));
  const proc = buildProcess(input, hostname);
  if (proc.isErr()) return err(proc.error);
  const mounts = buildMounts(config.mounts ?? [], input.volumeMounts, config.privileged);
  if (mounts.isErr()) return err(mounts.error);
  const linux = buildLinux(input);
  if (linux.isErr()) return err(linux.error);
  if (input.seccompProfile) {
    const seccomp = seccompFromProfile(input.seccompProfile, { capabilities: proc.value.capabilities?.bounding ?? [] });
    if (seccomp.isErr()) return err(seccomp.error);
    if (seccomp.value) linux.value.seccomp = seccomp.value;
  }
  const annotations: Record<string, string> = { ...(config.annotations ?? {}) };
  if (config.stdin) annotations[STDIN_ANNOTATION] = 'true';
  return ok({
    ociVersion: OCI_VERSION,
    process: proc.value,
    root: { path: input.rootfsPath, readonly: config.readOnly },
    ...(hostname !== undefined ? { hostname } : {}),
    mounts: mounts.value,
    annotations,
    linux: linux.value,
  });
}

function execCapabilities(base: OciProcess, opts: ExecProcessOptions, uid: number): OciCapabilities {
  const bounding = opts.privileged ? [...(opts.hostCapabilities ?? readHostCapabilities())] : [...(base.capabilities?.bounding ?? [])];
  if (uid === 0) return processCapabilities(bounding, true, []);
  if (opts.user === undefined) {
    const keep = (set: string[] | undefined): string[] => (set ?? []).filter((c) => bounding.includes(c));
    const c = base.capabilities ?? {};
    return { bounding, effective: keep(c.effective), permitted: keep(c.permitted), inheritable: [], ambient: keep(c.ambient) };
  }
  return processCapabilities(bounding, false, []);
}

/**
 * The process of an exec session: a copy of the container's process with
 * `command`, the terminal setting, extra environment, and optionally another
 * user (resolved in `rootfsPath`; HOME follows it) and working directory.
 * `privileged` grants the host's whole bounding set.
 */
export function execProcess(base: OciProcess, opts: ExecProcessOptions): Result<OciProcess, LibpodError> {
  const args = checkCommand(opts.command);
  if (args.isErr()) return err(args.error);
  const cwd = opts.workDir || base.cwd || '/';
  if (!isAbsolute(cwd)) return invalid(`invalid working directory ${JSON.stringify(cwd)}: must be an absolute path`);
  const vars = checkEnv(opts.env);
  if (vars.isErr()) return err(vars.error);
  const proc: OciProcess = structuredClone(base);
  const env = [...(proc.env ?? [])];
  let user = proc.user;
  if (opts.user !== undefined && opts.user !== '') {
    const u = resolveUser(opts.rootfsPath, opts.user);
    if (u.isErr()) return err(u.error);
    user = { uid: u.value.uid, gid: u.value.gid, ...(u.value.additionalGids.length > 0 ? { additionalGids: u.value.additionalGids } : {}) };
    if (opts.env?.HOME === undefined) setEnv(env, 'HOME', u.value.home);
  }
  if (opts.tty && !hasEnv(env, 'TERM')) env.push('TERM=xterm');
  for (const [k, v] of vars.value) setEnv(env, k, v);
  proc.args = args.value;
  proc.terminal = opts.tty;
  proc.cwd = cwd;
  proc.env = env;
  proc.user = user;
  proc.capabilities = execCapabilities(base, { ...opts, user: opts.user === '' ? undefined : opts.user }, user.uid);
  if (opts.privileged) proc.noNewPrivileges = false;
  delete proc.consoleSize;
  return ok(proc);
}
