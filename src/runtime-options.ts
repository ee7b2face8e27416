/**
 * `Runtime.open` options: validation and defaults.
 * @module
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from './define/errors.js';
import type { OciRuntime } from './oci/oci-runtime.js';
import type { StateStore } from './state/state-store.js';
import type { NetworkBackend } from './network/backend.js';

/** Options of {@link Runtime.open}. */
export interface RuntimeOptions {
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
}

/** Options with defaults applied. */
export interface ResolvedRuntimeOptions {
  root: string;
  runRoot: string;
  store: 'level' | 'memory' | StateStore;
  ociRuntime: 'runc' | 'crun' | 'fake' | OciRuntime;
  networkBackend: 'netavark' | 'fake' | NetworkBackend;
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
    if (!['root', 'runRoot', 'store', 'ociRuntime', 'networkBackend'].includes(k)) return err(libpodError('InvalidArg', `unknown runtime option "${k}"`));
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
  return ok({ root, runRoot, store, ociRuntime, networkBackend });
}
