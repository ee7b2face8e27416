/**
 * The `mounts` of a generated spec: podman's defaults, the caller's bind and
 * tmpfs mounts, and named volumes; user mounts replace a default at the
 * same destination, and parents are mounted before their children.
 * @module
 */
import { statSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerMount } from '../define/config.js';
import type { OciMount } from '../oci/oci-spec-types.js';
import { defaultMounts, PROPAGATION_OPTIONS } from './oci-spec-defaults.js';

/** A named volume already resolved to a host directory. */
export interface VolumeMount {
  /** Host directory of the volume. */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  /** Mount options (`ro`, `nosuid`, ...). */
  options: string[];
}

function invalid(message: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', message));
}

function checkDestination(dest: unknown): Result<string, LibpodError> {
  if (typeof dest !== 'string' || !isAbsolute(dest) || dest.includes('\0')) {
    return invalid(`invalid mount destination ${JSON.stringify(String(dest))}: must be an absolute path`);
  }
  return ok(posix.normalize(dest));
}

function checkOptions(options: unknown): Result<string[], LibpodError> {
  if (options === undefined) return ok([]);
  if (!Array.isArray(options) || options.some((o) => typeof o !== 'string' || o === '' || o.includes('\0'))) {
    return invalid('mount options must be an array of non-empty strings');
  }
  return ok([...(options as string[])]);
}

/** Bind options: `rbind` unless `bind`/`rbind` given, `rprivate` unless a propagation is given, then the user's. */
function bindOptions(user: string[]): string[] {
  const out: string[] = [];
  if (!user.includes('bind') && !user.includes('rbind')) out.push('rbind');
  if (!user.some((o) => PROPAGATION_OPTIONS.has(o))) out.push('rprivate');
  for (const o of user) if (!out.includes(o)) out.push(o);
  return out;
}

function userMount(m: ContainerMount): Result<OciMount, LibpodError> {
  if (m === null || typeof m !== 'object') return invalid('a mount must be an object');
  const dest = checkDestination(m.destination);
  if (dest.isErr()) return err(dest.error);
  const opts = checkOptions(m.options);
  if (opts.isErr()) return err(opts.error);
  const type = m.type ?? 'bind';
  if (type === 'tmpfs') {
    const options = ['nosuid', 'nodev', ...opts.value.filter((o) => o !== 'nosuid' && o !== 'nodev')];
    return ok({ destination: dest.value, type: 'tmpfs', source: 'tmpfs', options });
  }
  if (type !== 'bind') return invalid(`invalid mount type ${JSON.stringify(String(type))}: must be "bind" or "tmpfs"`);
  if (typeof m.source !== 'string' || !isAbsolute(m.source) || m.source.includes('\0')) {
    return invalid(`invalid bind mount source ${JSON.stringify(String(m.source))}: must be an absolute path`);
  }
  let exists = false;
  try {
    exists = statSync(m.source, { throwIfNoEntry: false }) !== undefined;
  } catch {
    exists = false;
  }
  if (!exists) return invalid(`bind mount source ${m.source} does not exist`);
  return ok({ destination: dest.value, type: 'bind', source: m.source, options: bindOptions(opts.value) });
}

function volumeMount(v: VolumeMount): Result<OciMount, LibpodError> {
  const dest = checkDestination(v.destination);
  if (dest.isErr()) return err(dest.error);
  const opts = checkOptions(v.options);
  if (opts.isErr()) return err(opts.error);
  return ok({ destination: dest.value, type: 'bind', source: v.source, options: bindOptions(opts.value) });
}

function depth(dest: string): number {
  return dest === '/' ? 0 : dest.split('/').length - 1;
}

/**
 * All mounts of the spec. A destination used twice by the caller's mounts
 * and volumes is `InvalidArg`; so is a bind source that does not exist.
 */
export function buildMounts(mounts: readonly ContainerMount[], volumes: readonly VolumeMount[], privileged: boolean): Result<OciMount[], LibpodError> {
  const user: OciMount[] = [];
  for (const m of mounts) {
    const r = userMount(m);
    if (r.isErr()) return err(r.error);
    user.push(r.value);
  }
  for (const v of volumes) {
    const r = volumeMount(v);
    if (r.isErr()) return err(r.error);
    user.push(r.value);
  }
  const seen = new Set<string>();
  for (const m of user) {
    if (seen.has(m.destination)) return invalid(`duplicate mount destination ${m.destination}`);
    seen.add(m.destination);
  }
  const all = [...defaultMounts(privileged).filter((m) => !seen.has(m.destination)), ...user];
  // stable sort: a parent is mounted before anything below it
  return ok(all.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map(({ m }) => m));
}
