/**
 * Facts about this host that bound what a spec may ask for: the resource
 * limits this process can grant (no CAP_SYS_RESOURCE: nothing above the
 * current hard limit), its capability bounding set, and its device nodes
 * (for privileged containers).
 * @module
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OciLinux } from '../oci/oci-spec-types.js';
import { ALL_CAPABILITIES } from './oci-spec-defaults.js';

/** A soft/hard limit pair. */
export interface RlimitPair {
  soft: number;
  hard: number;
}

/** The limits of this process that bound a container's NOFILE and NPROC. */
export interface HostRlimits {
  nofile: RlimitPair;
  nproc: RlimitPair;
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Parses the text of /proc/<pid>/limits; `undefined` when either line is
 * missing or malformed.
 */
export function parseProcLimits(text: string): HostRlimits | undefined {
  const find = (label: string): RlimitPair | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(label));
    if (!line) return undefined;
    const fields = line.slice(label.length).trim().split(/\s+/);
    const soft = parseLimit(fields[0]);
    const hard = parseLimit(fields[1]);
    return soft === undefined || hard === undefined ? undefined : { soft, hard };
  };
  const nofile = find('Max open files');
  const nproc = find('Max processes');
  return nofile && nproc ? { nofile, nproc } : undefined;
}

/** This process's NOFILE and NPROC limits from /proc/self/limits; `undefined` when unreadable. */
export function readHostRlimits(): HostRlimits | undefined {
  try {
    return parseProcLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Capability names of a hex capability mask (as in /proc/<pid>/status). */
export function capabilitiesOfMask(hex: string): string[] {
  let mask: bigint;
  try {
    mask = BigInt(`0x${hex.trim()}`);
  } catch {
    return [];
  }
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * This process's capability bounding set (what a privileged container may
 * get); every known capability when /proc/self/status is unreadable.
 */
export function readHostCapabilities(): string[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const line = status.split('\n').find((l) => l.startsWith('CapBnd:'));
    if (line) return capabilitiesOfMask(line.slice('CapBnd:'.length));
  } catch {
    // fall through
  }
  return [...ALL_CAPABILITIES];
}

type OciDevice = NonNullable<OciLinux['devices']>[number];

/** Directories under /dev that are never copied into a privileged container (runc's list). */
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function deviceOf(path: string): OciDevice | undefined {
  const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined;
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  const rdev = st.rdev;
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path, type, major, minor, fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/**
 * The host's character and block devices under `/dev` (what a privileged
 * container gets, as podman's `addPrivilegedDevices`). `/dev/console` and
 * the pts, shm, mqueue and fd directories are skipped; symlinks are not followed.
 */
export function readHostDevices(devRoot = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      let isDir = false;
      try {
        isDir = lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
      } catch {
        continue;
      }
      if (isDir) {
        if (depth < 4 && !SKIPPED_DEV_DIRS.has(name)) walk(path, depth + 1);
        continue;
      }
      if (path === join(devRoot, 'console')) continue;
      try {
        const dev = deviceOf(path);
        if (dev) out.push(dev);
      } catch {
        // a device that vanished or cannot be stat'ed is skipped
      }
    }
  };
  walk(devRoot, 0);
  return out;
}
