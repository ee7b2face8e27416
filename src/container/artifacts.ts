/**
 * Artifacts: small files a caller stores with a container (libpod
 * `AddArtifact`/`GetArtifact`/`RemoveArtifact`), kept in its static
 * directory and removed with it. Names never escape that directory.
 * @module
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../define/errors.js';
import type { EngineContext } from '../engine/context.js';
import { artifactPath, containerPaths } from './paths.js';

function checked<T>(ctx: EngineContext, id: string, name: unknown, fn: (path: string, dir: string) => Promise<T>, what: string): ResultAsync<T, LibpodError> {
  const guarded = ctx.guard();
  if (guarded.isErr()) return errAsync(guarded.error);
  const dir = containerPaths(ctx.root, ctx.runRoot, id).artifactsDir;
  if (typeof name !== 'string') return errAsync(libpodError('InvalidArg', 'artifact name must be a string'));
  const path = artifactPath(dir, name);
  if (path.isErr()) return errAsync(path.error);
  return ctx.index
    .containerExists(id)
    .andThen((exists) =>
      exists ? ResultAsync.fromPromise(fn(path.value, dir), (e) => mapFsError(e, name, what)) : errAsync(libpodError('CtrRemoved', `container ${id} has been removed`)),
    );
}

function mapFsError(e: unknown, name: string, what: string): LibpodError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return libpodError('InvalidArg', `no artifact named "${name}"`, e);
  return toLibpodError(e, 'Internal', `${what} artifact "${name}"`);
}

/** Stores (or replaces) an artifact. */
export function addArtifact(ctx: EngineContext, id: string, name: unknown, data: Uint8Array | string): ResultAsync<void, LibpodError> {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    return errAsync(libpodError('InvalidArg', 'artifact data must be a string or a Uint8Array'));
  }
  return checked(ctx, id, name, async (path, dir) => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path, data, { mode: 0o640 });
  }, 'writing');
}

/** Reads an artifact; a missing one is `InvalidArg`. */
export function getArtifact(ctx: EngineContext, id: string, name: unknown): ResultAsync<Uint8Array, LibpodError> {
  return checked(ctx, id, name, async (path) => new Uint8Array(await readFile(path)), 'reading');
}

/** Removes an artifact; a missing one is `InvalidArg`. */
export function removeArtifact(ctx: EngineContext, id: string, name: unknown): ResultAsync<void, LibpodError> {
  return checked(ctx, id, name, (path) => rm(path), 'removing');
}
