/**
 * The one home of `child_process` for short-lived host commands
 * (runc, mount, umount, criu). Long-lived monitors (conmon) are spawned in
 * `oci/conmon/`, which imports `spawn` from here too.
 * @module
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type ErrorCode, type LibpodError } from '../define/errors.js';

/** What a finished command printed and returned. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  /** Exit status (0 on success). */
  code: number;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Milliseconds before the command is killed (default 60 s). */
  timeoutMs?: number;
  /** Data written to stdin. */
  input?: string;
  /** Error code when the binary is missing (default `OCIRuntimeNotFound`). */
  notFoundCode?: ErrorCode;
}

/**
 * Runs `file args` and resolves with its output, whatever its exit status
 * (callers decide what a non-zero status means). A missing binary is
 * `notFoundCode`; a timeout is `Timeout`.
 */
export function runCommand(file: string, args: readonly string[], opts: RunCommandOptions = {}): ResultAsync<CommandOutput, LibpodError> {
  return ResultAsync.fromPromise(
    new Promise<CommandOutput>((resolve, reject) => {
      const child = execFile(
        file,
        [...args],
        { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(libpodError(opts.notFoundCode ?? 'OCIRuntimeNotFound', `${file}: executable not found`, error));
            return;
          }
          if (error && (error as NodeJS.ErrnoException).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            reject(libpodError('Internal', `${file} ${args.join(' ')}: output larger than 64 MiB`, error));
            return;
          }
          if (error && error.killed) {
            reject(libpodError('Timeout', `${file} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms`, error));
            return;
          }
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout, stderr, code });
        },
      );
      // a command that exits without reading its input makes the write fail (EPIPE): not our error
      child.stdin?.on('error', () => undefined);
      // No input: close stdin at once, so a command that reads it sees EOF instead of waiting for the timeout.
      child.stdin?.end(opts.input);
    }),
    (e) => toLibpodError(e, 'Internal', file),
  );
}

/**
 * Runs a command and fails with `code` (default `OCIRuntime`) and its stderr
 * when it exits non-zero.
 */
export function runChecked(file: string, args: readonly string[], opts: RunCommandOptions & { errorCode?: ErrorCode } = {}): ResultAsync<CommandOutput, LibpodError> {
  return runCommand(file, args, opts).andThen((out) =>
    out.code === 0
      ? okAsync(out)
      : errAsync(libpodError(opts.errorCode ?? 'OCIRuntime', `${file} ${args.join(' ')}: ${(out.stderr || out.stdout).trim() || `exit status ${out.code}`}`)),
  );
}

/** Spawns a long-lived child (for monitors such as conmon). */
export function spawnProcess(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return spawn(file, [...args], options);
}
