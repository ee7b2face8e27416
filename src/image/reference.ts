/**
 * Image references as distribution/reference (containers/image's
 * `docker/reference`) parses and normalizes them:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *
 * `busybox` → `docker.io/library/busybox:latest`,
 * `127.0.0.1:5000/test/app:1`, `quay.io/x/y@sha256:<64 hex>`.
 * A first component is a domain when it contains `.` or `:` or is
 * `localhost`; `index.docker.io` is `docker.io`; official images on
 * docker.io get `library/`. A 64-hex string is an id, never a name.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';

/** The registry of unqualified names. */
export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO = 'library';
/** The tag of a reference that names none. */
export const DEFAULT_TAG = 'latest';
/** Longest repository name (domain + path). */
export const NAME_TOTAL_LENGTH_MAX = 255;

const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]*)';
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPat = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const nameComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const pathPat = `${nameComponent}(?:/${nameComponent})*`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^((?:${domainPat}/)?${pathPat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainPat})/)?(${pathPat})$`);
const TAG_RE = new RegExp(`^${tagPat}$`);
const ID_RE = /^[a-f0-9]{64}$/;
const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** A parsed, normalized image reference. */
export interface ImageReference {
  /** Registry host with optional port: `docker.io`, `127.0.0.1:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`, `test/app`. */
  readonly path: string;
  /** Tag, when the reference names one (or got the default). */
  readonly tag?: string;
  /** `sha256:<hex>` digest, when the reference names one. */
  readonly digest?: string;
}

/** `domain/path`: the repository name. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full string form: `domain/path[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The reference with `latest` when it has neither tag nor digest (distribution's `TagNameOnly`). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/**
 * The form used in Docker's UI: `docker.io/library/busybox:1` → `busybox:1`,
 * `docker.io/me/app` → `me/app`; other registries unchanged.
 */
export function familiarReference(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    const parts = ref.path.split('/');
    name = parts.length === 2 && parts[0] === OFFICIAL_REPO ? (parts[1] as string) : ref.path;
  }
  return `${name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

function invalid(s: string, why: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', `invalid image reference ${JSON.stringify(s)}: ${why}`));
}

/** distribution's `splitDockerDomain`: the domain (default docker.io) and the rest. */
function splitDomain(s: string): [string, string] {
  const i = s.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i === -1 ? '' : s.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost')) {
    domain = DEFAULT_DOMAIN;
    rest = s;
  } else {
    domain = first;
    rest = s.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = `${OFFICIAL_REPO}/${rest}`;
  return [domain, rest];
}

/**
 * Parses `s` as distribution's `ParseNormalizedNamed`: the domain and
 * `library/` are filled in, the tag and digest are kept as given (no
 * default tag: see {@link withDefaultTag}). Malformed, upper-case or
 * 64-hex input is `InvalidArg`. Only sha256 digests are accepted.
 */
export function parseNormalizedReference(s: string): Result<ImageReference, LibpodError> {
  if (typeof s !== 'string') return invalid(String(s), 'must be a string');
  if (s === '') return invalid(s, 'repository name must have at least one component');
  if (ID_RE.test(s)) return invalid(s, 'cannot specify 64-byte hexadecimal strings');
  const [domain, remainder] = splitDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remoteName.toLowerCase() !== remoteName) return invalid(s, 'repository name must be lowercase');
  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) {
    return REFERENCE_RE.test(full.toLowerCase()) ? invalid(s, 'repository name must be lowercase') : invalid(s, 'invalid reference format');
  }
  const name = m[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) return invalid(s, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const nm = ANCHORED_NAME_RE.exec(name);
  if (!nm || nm[1] === undefined) return invalid(s, 'invalid reference format');
  const digest = m[3];
  if (digest !== undefined && !SHA256_DIGEST_RE.test(digest)) return invalid(s, 'unsupported digest (only sha256:<64 lowercase hex>)');
  return ok({
    domain: nm[1],
    path: nm[2] as string,
    ...(m[2] === undefined ? {} : { tag: m[2] }),
    ...(digest === undefined ? {} : { digest }),
  });
}

/**
 * Parses and normalizes a reference the way podman names images:
 * {@link parseNormalizedReference} plus the default tag `latest` when it
 * has neither tag nor digest.
 */
export function parseReference(s: string): Result<ImageReference, LibpodError> {
  return parseNormalizedReference(s).map(withDefaultTag);
}

/** `s` parsed and printed in full: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeReference(s: string): Result<string, LibpodError> {
  return parseReference(s).map(formatReference);
}

/**
 * Whether `s` names no registry (`busybox`, `me/app`, `busybox:1`): such a
 * name resolves to local images first, then through the search registries.
 */
export function isShortName(s: string): boolean {
  const i = s.indexOf('/');
  if (i === -1) return true;
  const first = s.slice(0, i);
  return !/[.:]/.test(first) && first !== 'localhost';
}

/** Whether `s` is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(s: string): boolean {
  return typeof s === 'string' && TAG_RE.test(s);
}

/** Whether `s` is a full image id (64 lowercase hex). */
export function isImageId(s: string): boolean {
  return typeof s === 'string' && ID_RE.test(s);
}

/**
 * podman's `NormalizeName` for names it stores (tag, commit, names from an
 * OCI layout): a name without a registry gets `localhost/` (`myimg` →
 * `localhost/myimg:latest`), docker.io names get `library/`, a tagged and
 * digested reference keeps only the digest, an untagged one gets `latest`.
 */
export function normalizeLocalName(s: string): Result<string, LibpodError> {
  if (typeof s !== 'string') return invalid(String(s), 'must be a string');
  const qualified = s !== '' && isShortName(s) && !ID_RE.test(s) ? `localhost/${s}` : s;
  return parseNormalizedReference(qualified)
    .map((ref) => {
      if (ref.tag !== undefined && ref.digest !== undefined) {
        const { tag: _tag, ...rest } = ref;
        return rest;
      }
      return withDefaultTag(ref);
    })
    .map(formatReference);
}
