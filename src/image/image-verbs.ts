/**
 * The image verbs of the Runtime: list with filters, lookup, removal
 * (podman's `rmi`, `rmi --force`) and prune.
 * @module
 */
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { LibpodEvent } from '../define/events.js';
import type { EngineContext } from '../engine/context.js';
import { imageConfigOf } from './image-data.js';
import { imageEvent } from './image-events.js';
import { findImage, nameMatches } from './image-lookup.js';
import { familiarReference, parseNormalizedReference, repositoryName } from './reference.js';
import type { ImageStore } from './store/image-store.js';
import type { ImageRecord } from './store/records.js';

/** Filter of `runtime.images()`; every given field must match. */
export interface ImageFilter {
  /** A name or repository (`busybox`, `docker.io/library/busybox:1`), `*` wildcards allowed. */
  reference?: string;
  /** `'key'`, `'key=value'`, or `{ key: value }` against the image's labels. */
  label?: string | Record<string, string>;
  /** Only images without names (`true`) or with names (`false`). */
  dangling?: boolean;
}

/** Options of `runtime.removeImage`. */
export interface RemoveImageOptions {
  /** Remove the containers using it first, and remove it whatever names it has. */
  force?: boolean;
}

/** What `runtime.removeImage` did. */
export interface RemoveImageResult {
  /** Names taken away. */
  untagged: string[];
  /** Ids of removed images. */
  deleted: string[];
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
}

/** Whether one of the image's names matches a reference filter. */
export function matchesReference(rec: ImageRecord, pattern: string): boolean {
  const re = glob(pattern);
  const norm = parseNormalizedReference(pattern.replace(/\*/g, 'x'));
  return rec.names.some((n) => {
    const r = parseNormalizedReference(n);
    if (r.isErr()) return re.test(n);
    const repo = repositoryName(r.value);
    const familiar = familiarReference(r.value);
    const familiarRepo = familiar.replace(/:[^:/]*$/, '');
    if ([n, repo, familiar, familiarRepo].some((c) => re.test(c))) return true;
    // `busybox` matches every tag of docker.io/library/busybox
    return !pattern.includes('*') && norm.isOk() && norm.value.tag === undefined && repositoryName(norm.value) === repo;
  });
}

function matchesLabels(labels: Record<string, string>, want: string | Record<string, string>): boolean {
  if (typeof want === 'string') {
    const eq = want.indexOf('=');
    return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
  }
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** Images matching `filter`, newest first. */
export function listImages(ctx: EngineContext, filter: ImageFilter): ResultAsync<ImageRecord[], LibpodError> {
  return ctx.imageStore().andThen((store) =>
    store.images().andThen((all) => {
      const named = all.filter((r) => (filter.dangling === undefined || (r.names.length === 0) === filter.dangling) && (filter.reference === undefined || matchesReference(r, filter.reference)));
      const labelled =
        filter.label === undefined
          ? okAsync(named)
          : ResultAsync.combine(named.map((r) => imageConfigOf(store, r).map((c) => ({ r, labels: c.config?.Labels ?? {} })))).map((xs) =>
              xs.filter((x) => matchesLabels(x.labels, filter.label as string | Record<string, string>)).map((x) => x.r),
            );
      return labelled.map((rs) => rs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
    }),
  );
}

/** The image `input` names (see `image-lookup.ts`). */
export function lookupImageRecord(ctx: EngineContext, input: string): ResultAsync<ImageRecord, LibpodError> {
  return ctx.imageStore().andThen((store) =>
    store.images().andThen((all) => {
      const found = findImage(all, input);
      return found.isOk() ? okAsync(found.value) : errAsync(found.error);
    }),
  );
}

/** Ids of the containers (of any Runtime on this storage) using image `id`. */
function usersOf(store: ImageStore, id: string): ResultAsync<string[], LibpodError> {
  return store.containerLayers().map((cs) => cs.filter((c) => c.imageId === id).map((c) => c.id));
}

/**
 * podman's `rmi`: by name, an image with other names only loses that name;
 * otherwise the image goes, `ImageInUse` while containers use it (by id with
 * several names too) unless `force`, which first removes this Runtime's
 * containers using it (`removeContainers`); containers of other Runtimes on
 * the same storage keep it `ImageInUse`.
 */
export function removeImageVerb(
  ctx: EngineContext,
  target: { id: string } | string,
  opts: RemoveImageOptions,
  removeContainers: (ids: string[]) => ResultAsync<void, LibpodError>,
): ResultAsync<RemoveImageResult, LibpodError> {
  const byName = typeof target === 'string' && !/^(sha256:)?[0-9a-f]+$/.test(target);
  const rec = typeof target === 'string' ? lookupImageRecord(ctx, target) : ctx.imageStore().andThen((s) => s.image(target.id));
  return ctx.imageStore().andThen((store) =>
    rec.andThen((image) => {
      const name = byName ? image.names.find((n) => nameMatches(n, target as string)) : undefined;
      if (name !== undefined && image.names.length > 1 && !opts.force) {
        return store.removeNames(image.id, [name]).map((): RemoveImageResult => {
          ctx.publish([imageEvent('untag', image.id, name)]);
          return { untagged: [name], deleted: [] };
        });
      }
      if (!byName && image.names.length > 1 && !opts.force) {
        return errAsync(libpodError('ImageInUse', `unable to delete image ${image.id} by ID with more than one tag (${image.names.join(', ')}): please force removal`));
      }
      return usersOf(store, image.id).andThen((users) => {
        if (users.length > 0 && !opts.force) {
          return errAsync(libpodError('ImageInUse', `image ${image.id} is in use by container(s) ${users.join(', ')}: image is being used`));
        }
        return (users.length > 0 ? removeContainers(users) : okAsync(undefined))
          .andThen(() => store.removeImage(image.id))
          .map((): RemoveImageResult => {
            ctx.publish([...image.names.map((n) => imageEvent('untag', image.id, n)), imageEvent('remove', image.id, image.names[0] ?? '')]);
            return { untagged: [...image.names], deleted: [image.id] };
          });
      });
    }),
  );
}

/** podman's `image prune`: unused dangling images (`all`: every unused image); resolves to the removed ids. */
export function pruneImagesVerb(ctx: EngineContext, opts: { all?: boolean }): ResultAsync<string[], LibpodError> {
  return ctx.imageStore().andThen((store) =>
    ResultAsync.combine([store.images(), store.containerLayers()]).andThen(([images, ctrs]) => {
      const used = new Set(ctrs.map((c) => c.imageId));
      const doomed = images.filter((i) => !used.has(i.id) && (opts.all === true || i.names.length === 0));
      const removed: string[] = [];
      const events: LibpodEvent[] = [];
      return doomed
        .reduce<ResultAsync<void, LibpodError>>(
          (acc, i) =>
            acc.andThen(() =>
              store
                .removeImage(i.id)
                .map(() => {
                  removed.push(i.id);
                  events.push(imageEvent('prune', i.id, i.names[0] ?? ''));
                })
                // a container made meanwhile (by any process) keeps its image: not an error for prune
                .orElse((e) => (e.code === 'ImageInUse' || e.code === 'NoSuchImage' ? okAsync(undefined) : errAsync(e))),
            ),
          okAsync(undefined),
        )
        .map(() => {
          ctx.publish(events);
          return removed;
        });
    }),
  );
}
