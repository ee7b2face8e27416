/**
 * Digests (`sha256:<64 hex>`) and chain ids, as the OCI image spec defines them.
 * @module
 */
import { createHash } from 'node:crypto';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Whether `v` is a `sha256:<64 lowercase hex>` digest (the only algorithm the store keeps). */
export function isDigest(v: unknown): v is string {
  return typeof v === 'string' && DIGEST.test(v);
}

/** Whether `v` is 64 lowercase hex characters (an id). */
export function isHexId(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v);
}

/** The hex part of a digest. */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** `sha256:` of `data`. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The chain id (hex) of a layer with `diffId` on top of the layer with chain
 * id `parent` (hex): the diffID itself for a base layer, else
 * sha256(`sha256:<parent> sha256:<diffID hex>`), as the OCI spec's ChainID.
 */
export function chainIdOf(parent: string | undefined, diffId: string): string {
  if (parent === undefined) return digestHex(diffId);
  return createHash('sha256').update(`sha256:${parent} ${diffId}`).digest('hex');
}

/** The chain ids of a stack of diffIDs, base first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | undefined;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    out.push(parent);
  }
  return out;
}
