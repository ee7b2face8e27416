/**
 * Seccomp profiles in podman's format (containers-common's `seccomp.json`)
 * turned into the runtime spec's `linux.seccomp`, as containers/common's
 * `setupSeccomp` does: the host's architectures from `archMap`, each rule
 * kept or dropped by its `includes`/`excludes` (capabilities of the
 * container's bounding set, architectures, minimum kernel), errno names
 * resolved to numbers. Parsing and conversion are pure; reading a file is
 * {@link readSeccompProfile}.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants, endianness, release } from 'node:os';
import { isAbsolute } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from '../oci/oci-spec-types.js';

/** Where containers-common installs podman's default profile. */
export const DEFAULT_SECCOMP_PROFILE_PATH = '/usr/share/containers/seccomp.json';

/** Parsed profiles by path, with the file version they were read from (profiles are never mutated). */
const profileCache = new Map<string, { version: string; profile: SeccompProfile }>();

/** A rule's condition on the container (`caps`: all in the bounding set; `arches`: the host's). */
export interface SeccompProfileFilter {
  caps?: string[];
  arches?: string[];
  /** `major.minor`: the rule needs at least this kernel. */
  minKernel?: string;
}

/** One rule of a profile. */
export interface SeccompProfileSyscall {
  name?: string;
  names?: string[];
  action: string;
  args?: OciSeccompArg[] | null;
  includes?: SeccompProfileFilter;
  excludes?: SeccompProfileFilter;
  errnoRet?: number;
  /** An errno name (`EPERM`) or number; wins over `errnoRet`. */
  errno?: string;
}

/** A profile in podman's (Docker's) format. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  defaultErrno?: string;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  syscalls?: SeccompProfileSyscall[] | null;
  flags?: string[];
}

/** What a conversion depends on besides the profile. */
export interface SeccompTarget {
  /** The container's bounding capability set (`CAP_...`). */
  capabilities: readonly string[];
  /** libseccomp's name of the native architecture (`amd64`, `arm64`, ...); default: this host's. */
  arch?: string;
  /** Kernel release (`6.1.0-13-amd64`); default: this host's. */
  kernel?: string;
}

/** Architectures an `archMap` entry can select (containers/common's `nativeToSeccomp`). */
const NATIVE_TO_SECCOMP: Readonly<Record<string, string>> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  s390x: 'SCMP_ARCH_S390X',
};

/** libseccomp's name of this host's architecture, from Node's `process.arch`. */
export function hostSeccompArch(): string {
  const byNode: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm: 'arm', arm64: 'arm64', s390x: 's390x', s390: 's390', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsel' };
  if (process.arch === 'ppc64') return endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  return byNode[process.arch] ?? process.arch;
}

function invalid(message: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', message));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkFilter(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return `${where} must be an object`;
  if (v.caps !== undefined && v.caps !== null && !isStrings(v.caps)) return `${where}.caps must be an array of strings`;
  if (v.arches !== undefined && v.arches !== null && !isStrings(v.arches)) return `${where}.arches must be an array of strings`;
  if (v.minKernel !== undefined && v.minKernel !== '' && !(typeof v.minKernel === 'string' && /^[0-9]+\.[0-9]+/.test(v.minKernel))) return `${where}.minKernel must be "major.minor"`;
  return undefined;
}

function checkSyscall(v: unknown, i: number): string | undefined {
  const where = `syscalls[${i}]`;
  if (!isObject(v)) return `${where} must be an object`;
  if (typeof v.action !== 'string' || v.action === '') return `${where}.action must be a non-empty string`;
  if (v.name !== undefined && typeof v.name !== 'string') return `${where}.name must be a string`;
  if (v.names !== undefined && v.names !== null && !isStrings(v.names)) return `${where}.names must be an array of strings`;
  if (v.name && Array.isArray(v.names) && v.names.length > 0) return `${where}: use either 'name' or 'names'`;
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) return `${where}.args must be an array`;
    for (const a of v.args) {
      if (!isObject(a) || !isCount(a.index) || !isCount(a.value) || (a.valueTwo !== undefined && !isCount(a.valueTwo)) || typeof a.op !== 'string') {
        return `${where}.args must be { index, value, valueTwo?, op } with non-negative integers`;
      }
    }
  }
  if (v.errnoRet !== undefined && v.errnoRet !== null && !isCount(v.errnoRet)) return `${where}.errnoRet must be a non-negative integer`;
  if (v.errno !== undefined && typeof v.errno !== 'string') return `${where}.errno must be a string`;
  return checkFilter(v.includes, `${where}.includes`) ?? checkFilter(v.excludes, `${where}.excludes`);
}

/** Checks a parsed JSON value is a profile; a wrong shape is `InvalidArg` naming the field. */
export function parseSeccompProfile(v: unknown, source = 'seccomp profile'): Result<SeccompProfile, LibpodError> {
  const bad = (m: string): Result<never, LibpodError> => invalid(`${source}: ${m}`);
  if (!isObject(v)) return bad('must be a JSON object');
  if (typeof v.defaultAction !== 'string') return bad('defaultAction must be a string');
  if (v.defaultErrnoRet !== undefined && v.defaultErrnoRet !== null && !isCount(v.defaultErrnoRet)) return bad('defaultErrnoRet must be a non-negative integer');
  if (v.defaultErrno !== undefined && typeof v.defaultErrno !== 'string') return bad('defaultErrno must be a string');
  if (v.architectures !== undefined && v.architectures !== null && !isStrings(v.architectures)) return bad('architectures must be an array of strings');
  if (v.flags !== undefined && v.flags !== null && !isStrings(v.flags)) return bad('flags must be an array of strings');
  if (v.archMap !== undefined && v.archMap !== null) {
    if (!Array.isArray(v.archMap)) return bad('archMap must be an array');
    for (const a of v.archMap) {
      if (!isObject(a) || typeof a.architecture !== 'string' || (a.subArchitectures !== undefined && a.subArchitectures !== null && !isStrings(a.subArchitectures))) {
        return bad('archMap entries must be { architecture, subArchitectures }');
      }
    }
  }
  if (v.syscalls !== undefined && v.syscalls !== null) {
    if (!Array.isArray(v.syscalls)) return bad('syscalls must be an array');
    for (const [i, s] of v.syscalls.entries()) {
      const m = checkSyscall(s, i);
      if (m !== undefined) return bad(m);
    }
  }
  return ok(v as unknown as SeccompProfile);
}

/**
 * Reads and checks the profile at `path` (absolute). Unreadable, not JSON or
 * not a profile: `InvalidArg`.
 */
export function readSeccompProfile(path: string): Result<SeccompProfile, LibpodError> {
  if (typeof path !== 'string' || !isAbsolute(path) || path.includes('\0')) return invalid(`seccompProfile must be 'unconfined' or an absolute path, got ${JSON.stringify(String(path))}`);
  let text: string;
  let version: string;
  try {
    // Every start reads the profile: a stat is enough to reuse the last parse of an unchanged file.
    const st = statSync(path);
    version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const cached = profileCache.get(path);
    if (cached?.version === version) return ok(cached.profile);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return invalid(`opening seccomp profile ${path} failed: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return invalid(`decoding seccomp profile ${path} failed: ${(e as Error).message}`);
  }
  const parsed = parseSeccompProfile(json, `seccomp profile ${path}`);
  if (parsed.isOk()) profileCache.set(path, { version, profile: parsed.value });
  return parsed;
}

function errnoOf(name: string | undefined, fallback: number | null | undefined): Result<number | undefined, LibpodError> {
  if (name === undefined || name === '') return ok(fallback ?? undefined);
  if (/^[0-9]+$/.test(name)) return ok(Number(name));
  const n = (constants.errno as Record<string, number | undefined>)[name];
  return n === undefined ? invalid(`unknown errno ${name}`) : ok(n);
}

/** `a.b` of a kernel release compared with `min` (`major.minor`): at least it? */
function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string): [number, number] => {
    const m = /^([0-9]+)\.([0-9]+)/.exec(v);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  const [a, b] = parse(kernel);
  const [x, y] = parse(min);
  return a > x || (a === x && b >= y);
}

function applies(call: SeccompProfileSyscall, arch: string, caps: readonly string[], kernel: string): boolean {
  const inc = call.includes ?? {};
  const exc = call.excludes ?? {};
  if ((exc.arches ?? []).includes(arch)) return false;
  if ((exc.caps ?? []).some((c) => caps.includes(c))) return false;
  if ((inc.arches ?? []).length > 0 && !(inc.arches ?? []).includes(arch)) return false;
  if ((inc.caps ?? []).some((c) => !caps.includes(c))) return false;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  return true;
}

function specSyscall(names: string[], call: SeccompProfileSyscall, errnoRet: number | undefined): OciSeccompSyscall {
  const out: OciSeccompSyscall = { names, action: call.action };
  if (errnoRet !== undefined) out.errnoRet = errnoRet;
  const args = (call.args ?? []).map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op }));
  if (args.length > 0) out.args = args;
  return out;
}

/**
 * The spec's `linux.seccomp` for `profile` (containers/common `setupSeccomp`).
 * A profile with no default action and no rules means no filter (`undefined`).
 */
export function seccompFromProfile(profile: SeccompProfile, target: SeccompTarget): Result<OciSeccomp | undefined, LibpodError> {
  const calls = profile.syscalls ?? [];
  if (profile.defaultAction === '' && calls.length === 0) return ok(undefined);
  if ((profile.architectures ?? []).length > 0 && (profile.archMap ?? []).length > 0) {
    return invalid("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const arch = target.arch ?? hostSeccompArch();
  const kernel = target.kernel ?? release();
  const architectures = [...(profile.architectures ?? [])];
  const native = NATIVE_TO_SECCOMP[arch];
  const entry = native === undefined ? undefined : (profile.archMap ?? []).find((a) => a.architecture === native);
  if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  const defaultErrno = errnoOf(profile.defaultErrno, profile.defaultErrnoRet);
  if (defaultErrno.isErr()) return err(defaultErrno.error);
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (defaultErrno.value !== undefined) out.defaultErrnoRet = defaultErrno.value;
  if (architectures.length > 0) out.architectures = architectures;
  if ((profile.flags ?? []).length > 0) out.flags = [...(profile.flags ?? [])];
  const syscalls: OciSeccompSyscall[] = [];
  for (const call of calls) {
    if (!applies(call, arch, target.capabilities, kernel)) continue;
    const errno = errnoOf(call.errno, call.errnoRet);
    if (errno.isErr()) return err(errno.error);
    if (call.name) syscalls.push(specSyscall([call.name], call, errno.value));
    if ((call.names ?? []).length > 0) syscalls.push(specSyscall([...(call.names ?? [])], call, errno.value));
  }
  out.syscalls = syscalls;
  return ok(out);
}

/** Where the default profile comes from, and whether it must be there. */
export interface SeccompDefault {
  /** The default profile's path (podman's: {@link DEFAULT_SECCOMP_PROFILE_PATH}). */
  path?: string;
  /**
   * Whether a missing default profile is an error (for runtimes that run real
   * processes: a container must never run unconfined by accident) or means no
   * filter (for runtimes that run nothing, such as the fake).
   */
  required?: boolean;
}

/**
 * The profile a container gets, as podman chooses it: none with
 * `'unconfined'`, or when `privileged` without a profile of its own; the
 * given file; else the default profile. When the default profile is not
 * installed, a runtime that runs real processes refuses the container
 * (`InvalidArg` naming the package and `seccompProfile: 'unconfined'`), and
 * one that runs nothing gets no filter.
 */
export function chooseSeccompProfile(
  config: { seccompProfile?: string; privileged?: boolean },
  defaults: SeccompDefault = {},
): Result<SeccompProfile | undefined, LibpodError> {
  const defaultPath = defaults.path ?? DEFAULT_SECCOMP_PROFILE_PATH;
  const chosen = config.seccompProfile;
  if (chosen === 'unconfined') return ok(undefined);
  if (chosen !== undefined) return readSeccompProfile(chosen);
  if (config.privileged) return ok(undefined);
  if (!existsSync(defaultPath)) {
    if (!defaults.required) return ok(undefined);
    return invalid(
      `podman's default seccomp profile ${defaultPath} is not installed: install containers-common ` +
        `(Debian: golang-github-containers-common; scripts/setup-host.sh does), or pass seccompProfile: 'unconfined' to run without one`,
    );
  }
  return readSeccompProfile(defaultPath);
}

/** Create-option check of `seccompProfile`: `'unconfined'` or a readable profile file. */
export function checkSeccompOption(v: unknown): Result<void, LibpodError> {
  if (v === 'unconfined') return ok(undefined);
  return readSeccompProfile(v as string).map(() => undefined);
}
