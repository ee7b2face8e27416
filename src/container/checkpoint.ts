/**
 * Checkpoint and restore (libpod `Checkpoint`/`Restore`): through the OCI
 * runtime's CRIU support when this host has it (otherwise `NotImplemented`
 * with the reason), optionally exported to / imported from an archive
 * (config.dump, spec.dump, checkpoint/, rootfs diff).
 * @module
 */
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, improper, libpodError, type LibpodError } from '../define/errors.js';
import { allows } from '../define/states.js';
import { extractTree } from '../archive/index.js';
import { readCheckpointArchive, writeCheckpointArchive } from './checkpoint-archive.js';
import { cleanupVerb } from './cleanup.js';
import { checkDependenciesRunning } from './dependencies.js';
import { syncContainer } from './sync.js';
import { imageChangesDir } from './image-rootfs.js';
import { pathsOf, queueEvent, save, type CtrSession } from './session.js';
import { mountStorage } from './storage.js';
import { createInRuntime, startInRuntime } from './runtime-ops.js';
import { createReadStream } from 'node:fs';

/** Options of `checkpoint` and `restore` (libpod `ContainerCheckpointOptions`). */
export interface ContainerCheckpointOptions {
  /** Keep the checkpoint files after a restore. */
  keep?: boolean;
  /** Leave the container running after the checkpoint. */
  keepRunning?: boolean;
  /** Checkpoint established TCP connections. */
  tcpEstablished?: boolean;
  /** Export the checkpoint to (checkpoint) / import it from (restore) this archive. */
  targetFile?: string;
  /** Leave the root filesystem changes out of the exported archive. */
  ignoreRootfs?: boolean;
}

function checkTarget(opts: ContainerCheckpointOptions): ResultAsync<void, LibpodError> {
  if (opts.targetFile === undefined) return okAsync(undefined);
  if (typeof opts.targetFile !== 'string' || !isAbsolute(opts.targetFile)) {
    return errAsync(libpodError('InvalidArg', 'targetFile must be an absolute path'));
  }
  return okAsync(undefined);
}

/** `checkpoint(opts)`. */
export function checkpointVerb(s: CtrSession, opts: ContainerCheckpointOptions): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  const imagePath = paths.checkpointDir;
  return checkTarget(opts)
    .andThen(() => s.ctx.oci.features.checkpoint())
    .andThen(() => {
      if (!allows('checkpoint', s.rec.state.state)) {
        return improper(`"${s.rec.id}" is not running, cannot checkpoint`);
      }
      return attempt(() => rm(imagePath, { recursive: true, force: true }), 'Internal', 'clearing old checkpoint');
    })
    .andThen(() =>
      s.ctx.oci.checkpoint(s.rec.id, {
        bundlePath: paths.bundlePath,
        imagePath,
        leaveRunning: opts.keepRunning ?? false,
        tcpEstablished: opts.tcpEstablished ?? false,
      }),
    )
    .andThen(() => (opts.targetFile ? exportCheckpoint(s, opts.targetFile, opts.ignoreRootfs ?? false) : okAsync(undefined)))
    .andThen(() => (opts.keep ? okAsync(undefined) : removeBundleFiles(s, ['dump.log', 'stats-dump'])))
    .andThen(() => {
      const st = s.rec.state;
      st.checkpointedAt = new Date().toISOString();
      st.checkpointPath = imagePath;
      queueEvent(s, 'checkpoint');
      if (opts.keepRunning) return save(s);
      st.state = 'stopped';
      st.pid = 0;
      st.monitorPid = 0;
      st.stoppedByUser = true;
      return save(s).andThen(() => cleanupVerb(s, syncContainer));
    });
}

/** libpod: without `keep`, CRIU's logs and statistics in the bundle go once used. */
function removeBundleFiles(s: CtrSession, names: readonly string[]): ResultAsync<void, LibpodError> {
  const bundle = pathsOf(s).bundlePath;
  return attempt(async () => {
    await Promise.all(names.map((n) => rm(join(bundle, n), { force: true })));
  }, 'Internal', 'removing checkpoint logs');
}

/** The directory of the container's own root filesystem changes (overlay upper layer), if it has one. */
function rootfsDiffDir(s: CtrSession): ResultAsync<string | undefined, LibpodError> {
  if (s.rec.config.image !== undefined) return imageChangesDir(s);
  return okAsync(s.rec.config.rootfsOverlay ? pathsOf(s).overlayUpper : undefined);
}

function exportCheckpoint(s: CtrSession, target: string, ignoreRootfs: boolean): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  return attempt(async () => {
    const specDump = JSON.parse(await readFile(paths.configJson, 'utf8')) as object;
    return specDump;
  }, 'Internal', 'reading spec for checkpoint export').andThen((specDump) =>
    rootfsDiffDir(s).andThen((diffDir) =>
      writeCheckpointArchive(target, {
        configDump: { id: s.rec.id, name: s.rec.name, config: s.rec.config },
        specDump,
        checkpointDir: paths.checkpointDir,
        ...(diffDir !== undefined && !ignoreRootfs ? { rootfsDiffDir: diffDir } : {}),
      }),
    ),
  );
}

/** Unpacks an exported checkpoint into the bundle: the image, and the rootfs diff into the overlay upper layer. */
function importCheckpoint(s: CtrSession, file: string, ignoreRootfs: boolean): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  const work = join(dirname(paths.checkpointDir), 'checkpoint-import');
  return attempt(() => rm(work, { recursive: true, force: true }), 'Internal', 'clearing import dir')
    .andThen(() => readCheckpointArchive(file, work))
    .andThen((parts) =>
      attempt(async () => {
        await rm(paths.checkpointDir, { recursive: true, force: true });
        await rename(parts.checkpointDir, paths.checkpointDir);
        return parts.rootfsDiffTar;
      }, 'Internal', 'installing imported checkpoint'),
    )
    .andThen((diff) =>
      rootfsDiffDir(s).andThen((into) =>
        diff && into !== undefined && !ignoreRootfs ? extractTree(createReadStream(diff), into, { symlinks: 'any' }).map(() => undefined) : okAsync(undefined),
      ),
    )
    .andThen(() => attempt(() => rm(work, { recursive: true, force: true }), 'Internal', 'removing import dir'));
}

/** `restore(opts)`. */
export function restoreVerb(s: CtrSession, opts: ContainerCheckpointOptions): ResultAsync<void, LibpodError> {
  const paths = pathsOf(s);
  return checkTarget(opts)
    .andThen(() => s.ctx.oci.features.checkpoint())
    .andThen(() => {
      if (!allows('restore', s.rec.state.state)) {
        return improper(`container ${s.rec.id} is running or paused, cannot restore`);
      }
      // As start: the dependencies (a pod's infra container) must run, or the restored
      // process would join no namespaces of theirs. Checked before anything is imported.
      return checkDependenciesRunning(s, syncContainer).andThen(() => (opts.targetFile ? importCheckpoint(s, opts.targetFile, opts.ignoreRootfs ?? false) : okAsync(undefined)));
    })
    .andThen(() =>
      attempt(() => stat(paths.checkpointDir), 'InvalidArg', `container ${s.rec.id} does not have a checkpoint; cannot restore`),
    )
    .andThen(() => mountStorage(s))
    .andThen(() => createInRuntime(s, false, paths.checkpointDir, opts.tcpEstablished === true))
    .andThen(() => s.ctx.oci.status(s.rec.id))
    .andThen((status) => (status.status === 'created' ? startInRuntime(s) : okAsync(undefined)))
    .andThen(() => {
      const st = s.rec.state;
      st.state = 'running';
      st.restoredAt = new Date().toISOString();
      if (!st.startedAt) st.startedAt = st.restoredAt;
      queueEvent(s, 'restore');
      const cleanup = opts.keep
        ? okAsync(undefined)
        : attempt(() => rm(paths.checkpointDir, { recursive: true, force: true }), 'Internal', 'removing checkpoint').andThen(() =>
            removeBundleFiles(s, ['restore.log', 'dump.log', 'stats-dump', 'stats-restore']),
          );
      delete st.checkpointPath;
      return cleanup.andThen(() => save(s));
    });
}
