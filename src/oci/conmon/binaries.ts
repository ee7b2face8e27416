/**
 * Finding the host binaries the conmon runtime drives (conmon, runc, crun,
 * criu): an explicit path, or a search of `PATH` plus the directories
 * libpod's containers.conf lists by default. A missing binary is
 * `OCIRuntimeNotFound` naming the Debian package that provides it.
 * @module
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ResultAsync } from 'neverthrow';
import { isLibpodError, libpodError, type ErrorCode, type LibpodError } from '../../define/errors.js';

/** The binaries this runtime may need, with the Debian package providing each. */
export const BINARY_PACKAGES = {
  conmon: 'conmon',
  runc: 'runc',
  crun: 'crun',
  criu: 'criu',
} as const;

/** A binary name known to {@link BINARY_PACKAGES}. */
export type BinaryName = keyof typeof BINARY_PACKAGES;

/** Directories searched after `PATH` (containers.conf's defaults for conmon and the runtimes). */
const EXTRA_DIRS: Readonly<Record<BinaryName, readonly string[]>> = {
  conmon: ['/usr/libexec/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman', '/usr/lib/podman', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'],
  runc: ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/sbin', '/bin', '/usr/lib/cri-o-runc/sbin', '/run/current-system/sw/bin'],
  crun: ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/sbin', '/bin', '/run/current-system/sw/bin'],
  criu: ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin'],
};

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directories searched for `name`, in order, without duplicates. */
export function searchDirs(name: BinaryName, envPath: string | undefined = process.env['PATH']): string[] {
  const fromPath = (envPath ?? '').split(delimiter).filter((d) => d !== '' && isAbsolute(d));
  return [...new Set([...fromPath, ...EXTRA_DIRS[name]])];
}

/**
 * Resolves `name` to an executable path: `explicit` when given (it MUST be an
 * executable file), else the first match in {@link searchDirs}. Fails with
 * `code` (default `OCIRuntimeNotFound`) and an `apt-get install` hint.
 */
export function findBinary(name: BinaryName, explicit?: string, code: ErrorCode = 'OCIRuntimeNotFound'): ResultAsync<string, LibpodError> {
  const hint = `apt-get install ${BINARY_PACKAGES[name]}`;
  return ResultAsync.fromPromise(
    (async () => {
      if (explicit !== undefined) {
        if (await isExecutableFile(explicit)) return explicit;
        throw libpodError(code, `${name} not found at ${explicit} (not an executable file): ${hint}`);
      }
      for (const dir of searchDirs(name)) {
        const candidate = join(dir, name);
        if (await isExecutableFile(candidate)) return candidate;
      }
      throw libpodError(code, `${name} not found: ${hint}`);
    })(),
    (e) => (isLibpodError(e) ? e : libpodError(code, `${name} not found: ${hint}`, e)),
  );
}
