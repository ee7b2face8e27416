/**
 * Capability sets: normalising names (`sys_admin`, `SYS_ADMIN` and
 * `CAP_SYS_ADMIN` are the same) and merging `capAdd`/`capDrop` into a base
 * set, as containers/common's `capabilities.MergeCapabilities`.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { OciCapabilities } from '../oci/oci-spec-types.js';
import { ALL_CAPABILITIES } from './oci-spec-defaults.js';

const KNOWN = new Set(ALL_CAPABILITIES);

/** `'ALL'`, or the `CAP_`-prefixed upper-case name; unknown names are `InvalidArg`. */
export function normalizeCapability(name: string): Result<string, LibpodError> {
  if (typeof name !== 'string') return err(libpodError('InvalidArg', `invalid capability ${JSON.stringify(String(name))}`));
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return ok('ALL');
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN.has(full)) return err(libpodError('InvalidArg', `unknown capability ${JSON.stringify(name)}`));
  return ok(full);
}

function normalizeAll(names: readonly string[]): Result<string[], LibpodError> {
  const out: string[] = [];
  for (const n of names) {
    const r = normalizeCapability(n);
    if (r.isErr()) return err(r.error);
    if (!out.includes(r.value)) out.push(r.value);
  }
  return ok(out);
}

/**
 * `base` minus `drops` plus `adds`. `'ALL'` in `adds` means every capability
 * in `all` (this host's bounding set) except the drops; `'ALL'` in `drops`
 * means only the adds. A capability both added and dropped, or `'ALL'` in
 * both, is `InvalidArg`.
 */
export function mergeCapabilities(base: readonly string[], adds: readonly string[], drops: readonly string[], all: readonly string[]): Result<string[], LibpodError> {
  const a = normalizeAll(adds);
  if (a.isErr()) return err(a.error);
  const d = normalizeAll(drops);
  if (d.isErr()) return err(d.error);
  const add = a.value;
  const drop = d.value;
  if (drop.includes('ALL')) {
    if (add.includes('ALL')) return err(libpodError('InvalidArg', 'adding all caps and removing all caps not allowed'));
    return ok(add);
  }
  if (add.includes('ALL')) return ok(all.filter((c) => !drop.includes(c)));
  const both = add.find((c) => drop.includes(c));
  if (both !== undefined) return err(libpodError('InvalidArg', `capability "${both}" cannot be dropped and added`));
  const out = base.filter((c) => !drop.includes(c));
  for (const c of add) if (!out.includes(c)) out.push(c);
  return ok(out);
}

/**
 * The process capability sets for `caps`, as podman sets them: root gets
 * them effective and permitted; another user only gets the explicitly
 * added ones (`userCaps`) effective, permitted and ambient. Inheritable is
 * always empty.
 */
export function processCapabilities(caps: readonly string[], isRoot: boolean, userCaps: readonly string[]): OciCapabilities {
  if (isRoot) return { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] };
  const granted = userCaps.filter((c) => caps.includes(c));
  return { bounding: [...caps], effective: [...granted], permitted: [...granted], inheritable: [], ambient: [...granted] };
}
