/**
 * `Runtime.open` options: validation and defaults.
 * @module
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from './define/errors.js';
import { DEFAULT_EVENT_LOG_MAX_SIZE } from './events/event-log.js';
import type { OciRuntime } from './oci/oci-runtime.js';
import type { StateStore } from './state/state-store.js';
import type { NetworkBackend } from './network/backend.js';
import type { StorageDriverName } from './image/store/layout.js';
import type { RegistriesConfig } from './image/pull.js';
import { checkRegistriesOption } from './image/pull-runtime.js';

/** Where images and containers' layers are stored (see README, "Images"). */
export interface StorageOptions {
  /** The storage directory (default `<root>/storage`); several Runtimes may share one. */
  path?: string;
  /** `'overlay'` (default as root when the kernel has it) or `'vfs'` (copies: no mounts, no root). Fixed when the directory is made. */
  driver?: StorageDriverName;
}

/** Options of {@link Runtime.open}. */
export interface RuntimeOptions {
  /**
   * Size limit of the event log in bytes (podman's `events_logfile_max_size`,
   * default 1,000,000); reaching it drops the older half. 0: no limit.
   */
  eventLogMaxSize?: number;
  /** Persistent data: state store, container dirs, volumes, event log (default `/var/lib/libpod-ts` for root). */
  root?: string;
  /** Volatile data: exit files, sockets, pid files; wiped = reboot (default `/run/libpod-ts` for root). */
  runRoot?: string;
  /** State backend: `'level'` (default, under root), `'memory'`, or an implementation. */
  store?: 'level' | 'memory' | StateStore;
  /** OCI runtime: `'runc'` (default, through conmon), `'crun'`, `'fake'`, or an implementation. */
  ociRuntime?: 'runc' | 'crun' | 'fake' | OciRuntime;
  /**
   * Network backend: `'netavark'` (default; `'fake'` when the OCI runtime is
   * the fake one), `'fake'` (wires nothing), or an implementation.
   */
  networkBackend?: 'netavark' | 'fake' | NetworkBackend;
  /** Image storage: its directory, or `{ path?, driver? }` (default `<root>/storage`, driver chosen by the host). */
  storage?: string | StorageOptions;
  /** Registries: `search` for short names (default `['docker.io']`), `insecure` ones reached over plain HTTP. */
  registries?: RegistriesConfig;
}

/** Options with defaults applied. */
export interface ResolvedRuntimeOptions {
  eventLogMaxSize: number;
  root: string;
  runRoot: string;
  store: 'level' | 'memory' | StateStore;
  ociRuntime: 'runc' | 'crun' | 'fake' | OciRuntime;
  /** The image storage directory and, when asked for, its driver. */
  storage: { path: string; driver?: StorageDriverName };
  networkBackend: 'netavark' | 'fake' | NetworkBackend;
  registries: { search: string[]; insecure: string[] };
}

function isNetworkBackend(v: unknown): v is NetworkBackend {
  const b = v as NetworkBackend;
  return typeof v === 'object' && v !== null && typeof b.setup === 'function' && typeof b.teardown === 'function' && typeof b.list === 'function';
}

function isStore(v: unknown): v is StateStore {
  const s = v as StateStore;
  return typeof v === 'object' && v !== null && typeof s.open === 'function' && typeof s.write === 'function' && typeof s.get === 'function';
}

function isOciRuntime(v: unknown): v is OciRuntime {
  const r = v as OciRuntime;
  return typeof v === 'object' && v !== null && typeof r.create === 'function' && typeof r.watchExits === 'function';
}

function defaultRoots(): { root: string; runRoot: string } {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { root: '/var/lib/libpod-ts', runRoot: '/run/libpod-ts' };
  const data = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  const run = process.env.XDG_RUNTIME_DIR ?? `/tmp/libpod-ts-run-${uid}`;
  return { root: join(data, 'libpod-ts'), runRoot: join(run, 'libpod-ts') };
}

/** Validates `Runtime.open` options; unknown keys and bad values are `InvalidArg`. */
export function resolveRuntimeOptions(options: unknown): Result<ResolvedRuntimeOptions, LibpodError> {
  const o = (options ?? {}) as RuntimeOptions;
  if (typeof o !== 'object' || Array.isArray(o)) return err(libpodError('InvalidArg', 'runtime options must be an object'));
  for (const k of Object.keys(o)) {
    if (!['root', 'runRoot', 'store', 'ociRuntime', 'networkBackend', 'storage', 'eventLogMaxSize', 'registries'].includes(k)) return err(libpodError('InvalidArg', `unknown runtime option "${k}"`));
  }
  const defaults = defaultRoots();
  const root = o.root ?? defaults.root;
  const runRoot = o.runRoot ?? defaults.runRoot;
  for (const [k, v] of [['root', root], ['runRoot', runRoot]] as const) {
    if (typeof v !== 'string' || !isAbsolute(v)) return err(libpodError('InvalidArg', `${k} must be an absolute path, got ${JSON.stringify(v)}`));
  }
  if (root === runRoot) return err(libpodError('InvalidArg', 'root and runRoot must be different directories'));
  const store = o.store ?? 'level';
  if (store !== 'level' && store !== 'memory' && !isStore(store)) {
    return err(libpodError('InvalidArg', `store must be 'level', 'memory' or a StateStore, got ${JSON.stringify(store)}`));
  }
  const ociRuntime = o.ociRuntime ?? 'runc';
  if (ociRuntime !== 'runc' && ociRuntime !== 'crun' && ociRuntime !== 'fake' && !isOciRuntime(ociRuntime)) {
    return err(libpodError('InvalidArg', `ociRuntime must be 'runc', 'crun', 'fake' or an OciRuntime, got ${JSON.stringify(ociRuntime)}`));
  }
  const fakeOci = ociRuntime === 'fake' || (typeof ociRuntime === 'object' && ociRuntime.features.runsProcesses === false);
  const networkBackend = o.networkBackend ?? (fakeOci ? 'fake' : 'netavark');
  if (networkBackend !== 'netavark' && networkBackend !== 'fake' && !isNetworkBackend(networkBackend)) {
    return err(libpodError('InvalidArg', `networkBackend must be 'netavark', 'fake' or a NetworkBackend, got ${JSON.stringify(networkBackend)}`));
  }
  const storage = resolveStorage(o.storage, root);
  if (storage.isErr()) return err(storage.error);
  const eventLogMaxSize = o.eventLogMaxSize ?? DEFAULT_EVENT_LOG_MAX_SIZE;
  if (typeof eventLogMaxSize !== 'number' || !Number.isSafeInteger(eventLogMaxSize) || eventLogMaxSize < 0) {
    return err(libpodError('InvalidArg', `eventLogMaxSize must be a non-negative integer (bytes; 0: no limit), got ${String(eventLogMaxSize)}`));
  }
  const badRegistries = checkRegistriesOption(o.registries);
  if (badRegistries) return err(badRegistries);
  const registries = { search: [...(o.registries?.search ?? ['docker.io'])], insecure: [...(o.registries?.insecure ?? [])] };
  return ok({ root, runRoot, store, ociRuntime, networkBackend, storage: storage.value, eventLogMaxSize, registries });
}

function resolveStorage(v: unknown, root: string): Result<ResolvedRuntimeOptions['storage'], LibpodError> {
  const bad = (why: string): Result<never, LibpodError> => err(libpodError('InvalidArg', `storage ${why}`));
  if (v === undefined) return ok({ path: join(root, 'storage') });
  if (typeof v === 'string') return isAbsolute(v) ? ok({ path: v }) : bad(`must be an absolute path, got ${JSON.stringify(v)}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('must be a path or { path?, driver? }');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'path' && k !== 'driver') return bad(`has an unknown key "${k}"`);
  if (o.path !== undefined && (typeof o.path !== 'string' || !isAbsolute(o.path))) return bad(`path must be an absolute path, got ${JSON.stringify(o.path)}`);
  if (o.driver !== undefined && o.driver !== 'overlay' && o.driver !== 'vfs') return bad(`driver must be 'overlay' or 'vfs', got ${JSON.stringify(o.driver)}`);
  return ok({ path: (o.path as string | undefined) ?? join(root, 'storage'), ...(o.driver === undefined ? {} : { driver: o.driver }) });
}
