/**
 * `ctr.commit(ref?, { pause, author, message, changes })`: an image of the
 * container's writable layer on top of its image (podman's
 * `Container.Commit`). The container's lock is held throughout; a running
 * container is paused while its layer is read when `pause` is set, and
 * unpaused again whatever happens. The `commit` image event is published
 * after the lock is released.
 * @module
 */
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { checkCommitInput, commitImage, type CommitSettings } from '../image/commit/commit-image.js';
import { imageEvent } from '../image/image-events.js';
import type { ImageRecord } from '../image/store/records.js';
import { failAfter } from '../util/safe.js';
import { pauseVerb, unpauseVerb } from './lifecycle.js';
import type { CtrSession } from './session.js';

/** Options of `ctr.commit`. */
export interface CommitOptions {
  /** Pause a running container while its changes are read (default false, as podman's). */
  pause?: boolean;
  /** The image's author. */
  author?: string;
  /** The commit message (the new history entry's comment). */
  message?: string;
  /** podman's `--change` instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR. */
  changes?: string[];
}

function settingsOf(s: CtrSession): CommitSettings {
  const c = s.rec.config;
  return {
    entrypoint: [...(c.entrypoint ?? [])],
    cmd: [...c.command],
    env: Object.entries(c.env).map(([k, v]) => `${k}=${v}`),
    labels: { ...c.labels },
    ...(c.user ? { user: c.user } : {}),
    ...(c.workDir ? { workingDir: c.workDir } : {}),
  };
}

/** The commit verb (lock held). */
export function commitVerb(s: CtrSession, ref: string | undefined, opts: CommitOptions): ResultAsync<ImageRecord, LibpodError> {
  const imageId = s.rec.config.image;
  if (imageId === undefined) return errAsync(libpodError('InvalidArg', `cannot commit container ${s.rec.id}: it uses a rootfs directory, not an image`));
  const checked = checkCommitInput(ref, opts.changes);
  if (checked.isErr()) return errAsync(checked.error);
  const pause = opts.pause === true && s.rec.state.state === 'running';
  const paused = pause ? pauseVerb(s) : okAsync(undefined);
  return paused.andThen(() =>
    s.ctx
      .imageStore()
      .andThen((store) =>
        commitImage({
          store,
          containerId: s.rec.id,
          imageId,
          settings: settingsOf(s),
          ...(ref !== undefined ? { ref } : {}),
          ...(opts.author !== undefined ? { author: opts.author } : {}),
          ...(opts.message !== undefined ? { message: opts.message } : {}),
          ...(opts.changes !== undefined ? { changes: opts.changes } : {}),
        }),
      )
      .andThen((rec) => (pause ? unpauseVerb(s).map(() => rec) : okAsync(rec)))
      .orElse((e) => (pause ? failAfter<ImageRecord>(e, () => unpauseVerb(s)) : errAsync(e)))
      .map((rec) => {
        s.pending.push(imageEvent('commit', rec.id, checked.value.name ?? ''));
        return rec;
      }),
  );
}
