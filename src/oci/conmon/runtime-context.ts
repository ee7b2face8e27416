/**
 * The state one ConmonOciRuntime instance shares with its operation modules.
 * Everything is per instance: two runtimes on different runRoots never share
 * maps, watchers or caches.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { ConmonLogLevel } from './conmon-args.js';
import type { DirWatcher } from './exit-files.js';
import { isSafeName, type Layout } from './layout.js';
import type { RuncCli } from './runc-cli.js';

/** What an opened runtime knows. */
export interface ConmonContext {
  /** `'runc'` or `'crun'`. */
  runtimeName: 'runc' | 'crun';
  /** Absolute path of conmon. */
  conmonPath: string;
  /** The runtime CLI under its `--root`. */
  runc: RuncCli;
  layout: Layout;
  /** The watcher on `<runRoot>/exits`. */
  exits: DirWatcher;
  /** The watcher on the runtime's `--root`: a container's state directory going away ends its deletion. */
  states: DirWatcher;
  /** conmon's `--log-level` for containers (exec sessions never get `debug`: P6). */
  logLevel: ConmonLogLevel;
  /** Bundle paths by container id (from create, or read back from `oci/<id>/bundle`). */
  bundles: Map<string, string>;
  /** Exec process pids by `<id>/<sessionId>` (also in the session's `exec_pid`). */
  execPids: Map<string, number>;
}

/** The key of an exec session in {@link ConmonContext.execPids}. */
export function execKey(id: string, sessionId: string): string {
  return `${id}/${sessionId}`;
}

/** `InvalidArg` for an id that cannot be a file name in the exit directory; `undefined` when fine. */
export function nameError(kind: string, name: string): LibpodError | undefined {
  if (isSafeName(name)) return undefined;
  return libpodError('InvalidArg', `invalid ${kind} ${JSON.stringify(name)}: only letters, digits, '_' and '-' are allowed`);
}

/** Records the bundle of `id` in memory and in `<runRoot>/oci/<id>/bundle`. */
export async function rememberBundle(ctx: ConmonContext, id: string, bundlePath: string): Promise<void> {
  ctx.bundles.set(id, bundlePath);
  await mkdir(ctx.layout.ctrDir(id), { recursive: true, mode: 0o700 });
  await writeFile(ctx.layout.bundleRecord(id), bundlePath, { mode: 0o600 });
}

/** The bundle of `id`: from this instance, else from the record a previous process left. */
export async function bundleOf(ctx: ConmonContext, id: string): Promise<string | undefined> {
  const known = ctx.bundles.get(id);
  if (known !== undefined) return known;
  try {
    const path = (await readFile(ctx.layout.bundleRecord(id), 'utf8')).trim();
    if (path === '') return undefined;
    ctx.bundles.set(id, path);
    return path;
  } catch {
    return undefined;
  }
}
