/**
 * Ids and names, as libpod makes and checks them.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from './errors.js';

/** libpod's rule for container, pod and volume names. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The longest name accepted (libpod stores names as keys; keep them sane). */
export const MAX_NAME_LENGTH = 253;

/** A full id: 64 lowercase hex characters. */
export const FULL_ID_PATTERN = /^[0-9a-f]{64}$/;

/** A new random 64-hex-character id. */
export function generateId(): string {
  return randomBytes(32).toString('hex');
}

/** A new random id for an exec session (also 64 hex characters, as libpod's). */
export const generateExecSessionId = generateId;

const ADJECTIVES = [
  'brave', 'calm', 'clever', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'keen', 'lucid',
  'merry', 'nifty', 'proud', 'quirky', 'sharp', 'silly', 'sleepy', 'stoic', 'tender', 'vivid',
  'witty', 'zen', 'bold', 'cool', 'dazzling', 'elegant', 'festive', 'gifted', 'hopeful', 'loving',
];
const NOUNS = [
  'turing', 'lovelace', 'hopper', 'knuth', 'ritchie', 'thompson', 'torvalds', 'hamilton', 'curie',
  'darwin', 'euler', 'gauss', 'hypatia', 'kepler', 'lamport', 'liskov', 'noether', 'pascal',
  'shannon', 'tesla', 'wozniak', 'yonath', 'babbage', 'bohr', 'cerf', 'dijkstra', 'feynman',
];

function pick<T>(list: readonly T[]): T {
  return list[randomBytes(2).readUInt16BE(0) % list.length] as T;
}

/** A generated `adjective_noun` name, as podman gives unnamed containers. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 64; i++) {
    const name = `${pick(ADJECTIVES)}_${pick(NOUNS)}`;
    if (!taken(name)) return name;
  }
  return `${pick(ADJECTIVES)}_${pick(NOUNS)}_${randomBytes(4).toString('hex')}`;
}

/** Checks a user-supplied name for a container, pod or volume. */
export function validateName(name: unknown, what: 'container' | 'pod' | 'volume' | 'network'): Result<string, LibpodError> {
  if (typeof name !== 'string' || name.length === 0) {
    return err(libpodError('InvalidArg', `${what} name must be a non-empty string`));
  }
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    return err(
      libpodError(
        'InvalidArg',
        `names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most ${MAX_NAME_LENGTH} characters): invalid ${what} name "${name}"`,
      ),
    );
  }
  return ok(name);
}

/** The short (12-character) form of an id, for messages. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
