/**
 * Platforms (`os/arch[/variant]`) and the choice of an index entry for a
 * platform, as c/image's platform matcher: the wanted variants of an
 * architecture in order of preference (arm: v8, v7, v6, v5; arm64: v8),
 * then entries without a variant; an entry without a platform matches last.
 * @module
 */
import { readFileSync } from 'node:fs';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { Descriptor, ImageIndex, Platform } from './manifest.js';

/** A wanted platform: os, architecture and (possibly empty) variant. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant: string;
}

const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

const COMPATIBILITY: Readonly<Record<string, readonly string[]>> = {
  arm: ['v8', 'v7', 'v6', 'v5'],
  arm64: ['v8'],
};

/** The Go architecture name (GOARCH) of a Node `process.arch`. */
export function goArch(nodeArch: string = process.arch): string {
  return NODE_ARCH[nodeArch] ?? nodeArch;
}

function cpuVariant(arch: string): string {
  if (arch !== 'arm' && arch !== 'arm64') return '';
  if (arch === 'arm64') return 'v8';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0]?.trim().toLowerCase() === 'cpu architecture');
    const v = line?.split(':')[1]?.trim().toLowerCase() ?? '';
    if (v === '8' || v === 'aarch64') return 'v8';
    if (v === '7' || v === '7m') return 'v7';
    if (v === '6' || v === '6tej') return 'v6';
    if (v.startsWith('5')) return 'v5';
  } catch {
    // no cpuinfo: no variant preference
  }
  return '';
}

/** This host's platform (linux, GOARCH, CPU variant on arm). */
export function hostPlatform(): PlatformSpec {
  const architecture = goArch();
  return { os: process.platform === 'linux' ? 'linux' : process.platform, architecture, variant: cpuVariant(architecture) };
}

/** `linux/arm64/v8` → a {@link PlatformSpec}; anything else is `InvalidArg`. */
export function parsePlatform(s: string): Result<PlatformSpec, LibpodError> {
  const parts = typeof s === 'string' ? s.split('/') : [];
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    return err(libpodError('InvalidArg', `invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`));
  }
  return ok({ os: parts[0] as string, architecture: parts[1] as string, variant: parts[2] ?? '' });
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The acceptable platforms for `wanted`, best first (c/image's WantedPlatforms). */
export function wantedPlatforms(wanted: PlatformSpec): PlatformSpec[] {
  const order = COMPATIBILITY[wanted.architecture];
  let variants: string[];
  if (wanted.variant !== '') {
    const i = order ? order.indexOf(wanted.variant) : -1;
    variants = [...(order && i !== -1 ? order.slice(i) : [wanted.variant]), ''];
  } else {
    variants = ['', ...(order ?? [])];
  }
  return variants.map((variant) => ({ os: wanted.os, architecture: wanted.architecture, variant }));
}

/** Whether an image's platform is exactly `wanted`. */
export function matchesPlatform(image: Platform, wanted: PlatformSpec): boolean {
  return image.os === wanted.os && image.architecture === wanted.architecture && (image.variant ?? '') === wanted.variant;
}

/**
 * The index entry for `wanted` (default: this host): the best platform
 * match, earlier entries winning ties. `NoSuchImage` when none matches.
 */
export function chooseInstance(index: ImageIndex, wanted: PlatformSpec = hostPlatform()): Result<Descriptor, LibpodError> {
  const accept = wantedPlatforms(wanted);
  let best: { rank: number; d: Descriptor } | undefined;
  for (const d of index.manifests) {
    let rank = Number.MAX_SAFE_INTEGER;
    if (d.platform !== undefined) {
      const p = d.platform;
      rank = accept.findIndex((w) => matchesPlatform(p, w));
      if (rank === -1) continue;
    }
    if (best === undefined || rank < best.rank) best = { rank, d };
  }
  return best
    ? ok(best.d)
    : err(libpodError('NoSuchImage', `no image found in image index for architecture "${wanted.architecture}", variant "${wanted.variant}", OS "${wanted.os}"`));
}
