/**
 * What a caller passes to create a container, and the stored configuration.
 * @module
 */
import type { Signal } from './signals.js';
import type { NetworkAttachOptions, PortMapping } from './network.js';

/** How a container is networked (see {@link ContainerCreateOptions.network}). */
export type NetworkMode = 'none' | 'host' | 'bridge' | { container: string };

/** When `newContainer({ image })` pulls the image, as podman's `--pull`. */
export type PullPolicy = 'always' | 'missing' | 'newer' | 'never';

/** Restart policies, as podman's `--restart`. */
export type RestartPolicy = 'no' | 'on-failure' | 'always' | 'unless-stopped';

/** A named volume a container uses. */
export interface ContainerVolume {
  /** Volume name; created on container creation when missing, as podman does. */
  name: string;
  /** Absolute path inside the container. */
  dest: string;
  /** Mount options (`ro`, `rw`, `nosuid`, `noexec`, `nodev`, ...). */
  options?: string[];
}

/** A bind or tmpfs mount. */
export interface ContainerMount {
  /** Host path (bind) or ignored (tmpfs). */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  /** `'bind'` (default) or `'tmpfs'`. */
  type?: 'bind' | 'tmpfs';
  /** Mount options (`ro`, `rbind`, `size=64m`, ...). */
  options?: string[];
}

/** cgroup resource limits. */
export interface ContainerResources {
  /** Memory limit in bytes. */
  memory?: number;
  /** Relative CPU weight (cgroup v1 `cpu.shares`). */
  cpuShares?: number;
  /** CPU quota in microseconds per 100ms period. */
  cpuQuota?: number;
  /** Maximum number of processes. */
  pids?: number;
}

/** A health check, as podman's `--health-*` options (seconds). */
export interface HealthCheckConfig {
  /** The command, e.g. `['CMD-SHELL', 'test -f /ready']` or `['/bin/check']`. */
  test: string[];
  /** Seconds between checks (default 30). */
  interval?: number;
  /** Seconds a check may take (default 30). */
  timeout?: number;
  /** Failures before unhealthy (default 3). */
  retries?: number;
  /** Grace period in seconds (default 0). */
  startPeriod?: number;
}

/** Options of `runtime.newContainer`. Unknown keys are rejected with `InvalidArg`. */
export interface ContainerCreateOptions {
  /** Name; generated (`adjective_noun`) when absent. Must match `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
  name?: string;
  /** Absolute path of a host directory used as the root filesystem (this or `image`). */
  rootfs?: string;
  /**
   * An image (name, id, id prefix or `Image`) whose layers, under a writable
   * layer of the container's own, make the root filesystem (this or
   * `rootfs`); its config supplies the defaults the other options override.
   */
  image?: string | { readonly id: string };
  /** With `image`: replaces the image's Entrypoint (and drops its Cmd unless `command` is given). */
  entrypoint?: string[];
  /** With `image`: when to pull it (`'missing'` by default). Registries come with part 2: a missing image is `NoSuchImage`. */
  pullPolicy?: PullPolicy;
  /** Mount the rootfs as the lower layer of an overlay so writes never reach it (default false). */
  rootfsOverlay?: boolean;
  /** The command and its arguments; `command[0]` is looked up in the container's PATH. With `image`: replaces its Cmd (optional). */
  command?: string[];
  /** Environment variables (PATH and TERM get defaults). */
  env?: Record<string, string>;
  /** Working directory inside the container (absolute; default `/`). */
  workDir?: string;
  /** `uid`, `uid:gid`, or names resolved through the rootfs's /etc/passwd and /etc/group. */
  user?: string;
  /** Allocate a pseudo-terminal. */
  terminal?: boolean;
  /** Keep stdin open so it can be attached. */
  stdin?: boolean;
  /** Labels. */
  labels?: Record<string, string>;
  /** OCI annotations. */
  annotations?: Record<string, string>;
  /** Signal sent by `stop` (default `'SIGTERM'`). */
  stopSignal?: Signal;
  /** Seconds `stop` waits before SIGKILL (default 10). */
  stopTimeout?: number;
  /** Restart policy applied when the container exits (default `'no'`). */
  restartPolicy?: RestartPolicy;
  /** With `'on-failure'`: the number of restarts allowed (0 = unlimited). */
  restartRetries?: number;
  /** Containers (ids or names) that must run before this one starts. */
  dependencies?: string[];
  /** Pod (id or name) to join. */
  pod?: string;
  /** Named volumes. */
  volumes?: ContainerVolume[];
  /** Bind and tmpfs mounts. */
  mounts?: ContainerMount[];
  /**
   * `'none'`: own network namespace with loopback only (the default without
   * `networks` and `ports`); `'host'`: the host's; `'bridge'`: the networks
   * in `networks`, else the default `podman` network (the default with
   * `networks` or `ports`); `{ container }`: another container's namespace.
   */
  network?: NetworkMode;
  /** Networks to attach to (bridge networking), by name or id, with aliases and static addresses. */
  networks?: Record<string, NetworkAttachOptions>;
  /** Ports to publish on the host (bridge networking). */
  ports?: PortMapping[];
  /** DNS servers for /etc/resolv.conf instead of the host's (bridge networking). */
  dns?: string[];
  /** Hostname (default: the first 12 characters of the id). */
  hostname?: string;
  /** Extra /etc/hosts entries: name → IPv4 address (bridge networking). */
  hosts?: Record<string, string>;
  /** All capabilities, all devices, no masked paths. */
  privileged?: boolean;
  /** Capabilities added to the default set (`'CAP_SYS_ADMIN'` or `'SYS_ADMIN'`). */
  capAdd?: string[];
  /** Capabilities removed from the default set. */
  capDrop?: string[];
  /** Mount the root filesystem read-only. */
  readOnly?: boolean;
  /** cgroup limits. */
  resources?: ContainerResources;
  /** Health check (stored and reported; see README). */
  healthCheck?: HealthCheckConfig;
  /** Directory of OCI hook JSON files (precreate and poststop, as libpod's hooks dir). */
  hooksDir?: string;
  /**
   * Seccomp: `'unconfined'` (no filter) or the absolute path of a profile in
   * podman's `seccomp.json` format. Default: podman's profile
   * (`/usr/share/containers/seccomp.json`), except for `privileged` containers.
   */
  seccompProfile?: string;
}

/**
 * The stored configuration: the create options as given, plus defaults, with
 * the same field names. Immutable after creation.
 */
export interface ContainerConfig extends ContainerCreateOptions {
  name: string;
  /** The command after the entrypoint (with an image: the caller's, else the image's Cmd). */
  command: string[];
  /** With an image: the id of the image the container was made from. */
  image?: string;
  rootfsOverlay: boolean;
  env: Record<string, string>;
  workDir: string;
  terminal: boolean;
  stdin: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  stopSignal: Signal;
  stopTimeout: number;
  restartPolicy: RestartPolicy;
  restartRetries: number;
  dependencies: string[];
  volumes: ContainerVolume[];
  mounts: ContainerMount[];
  network: NetworkMode;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  readOnly: boolean;
}

/** Default seconds a stop waits before SIGKILL (libpod's `DefaultStopTimeout`). */
export const DEFAULT_STOP_TIMEOUT = 10;
