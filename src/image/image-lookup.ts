/**
 * Finding an image as podman's `LookupImage` does, over the store's records:
 * a full id (or `sha256:<id>`), a name (normalized: `busybox` is
 * `docker.io/library/busybox:latest`), a short name matched against local
 * names (`app` finds `localhost/app:latest`; `me/app:1` finds
 * `quay.io/me/app:1`), `name@digest`, or a unique id prefix. An ambiguous
 * prefix or short name is `InvalidArg`; nothing found is `NoSuchImage`;
 * a malformed reference is `InvalidArg`.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { formatReference, isShortName, parseNormalizedReference, repositoryName, withDefaultTag, type ImageReference } from './reference.js';
import type { ImageRecord } from './store/records.js';

const HEX = /^[0-9a-f]+$/;

function noSuch(input: string): Result<never, LibpodError> {
  return err(libpodError('NoSuchImage', `${input}: image not known`));
}

function unique(matches: readonly ImageRecord[], input: string, what: string): Result<ImageRecord, LibpodError> | undefined {
  const ids = [...new Set(matches.map((m) => m.id))];
  if (ids.length === 0) return undefined;
  if (ids.length > 1) return err(libpodError('InvalidArg', `${what} ${JSON.stringify(input)} matches ${ids.length} images: use a longer id or a full name`));
  return ok(matches[0] as ImageRecord);
}

function byDigest(images: readonly ImageRecord[], ref: ImageReference): ImageRecord[] {
  const repo = repositoryName(ref);
  return images.filter((i) => i.digests.includes(ref.digest as string) && i.names.some((n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`)));
}

/** Local names whose repository ends with the short name's path and whose tag is the same. */
function byShortName(images: readonly ImageRecord[], input: string): ImageRecord[] {
  return images.filter((i) => i.names.some((n) => nameMatches(n, input)));
}

/** The image `input` names among `images` (see the module comment). */
export function findImage(images: readonly ImageRecord[], input: string): Result<ImageRecord, LibpodError> {
  if (typeof input !== 'string' || input === '') return err(libpodError('InvalidArg', 'image name or id must be a non-empty string'));
  const id = input.startsWith('sha256:') ? input.slice('sha256:'.length) : input;
  if (/^[0-9a-f]{64}$/.test(id)) return unique(images.filter((i) => i.id === id), input, 'image id') ?? noSuch(input);
  const parsed = parseNormalizedReference(input);
  if (parsed.isOk()) {
    const ref = parsed.value;
    if (ref.digest !== undefined) return unique(byDigest(images, ref), input, 'image reference') ?? noSuch(input);
    const full = formatReference(withDefaultTag(ref));
    const exact = images.find((i) => i.names.includes(full));
    if (exact) return ok(exact);
    if (isShortName(input)) {
      const found = unique(byShortName(images, input), input, 'short name');
      if (found) return found;
    }
  }
  if (HEX.test(id)) return unique(images.filter((i) => i.id.startsWith(id)), input, 'image id prefix') ?? noSuch(input);
  return parsed.isErr() ? err(parsed.error) : noSuch(input);
}

/** Whether `name` (a stored, fully qualified name) is what `input` names: the same normalized name, or a short-name match. */
export function nameMatches(name: string, input: string): boolean {
  const parsed = parseNormalizedReference(input);
  if (parsed.isErr() || parsed.value.digest !== undefined) return false;
  if (formatReference(withDefaultTag(parsed.value)) === name) return true;
  if (!isShortName(input)) return false;
  const at = input.lastIndexOf(':');
  const hasTag = at > input.lastIndexOf('/');
  return name.endsWith(`/${hasTag ? input.slice(0, at) : input}:${hasTag ? input.slice(at + 1) : 'latest'}`);
}
