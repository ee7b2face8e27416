/**
 * The one home of `child_process` for short-lived host commands
 * (runc, mount, umount, criu). Long-lived monitors (conmon) are spawned in
 * `oci/conmon/`, which imports `spawn` from here too.
 * @module
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:os';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type ErrorCode, type LibpodError } from '../define/errors.js';

const osSignals: Partial<Record<NodeJS.Signals, number>> = constants.signals;

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

/** A running command whose stdin and stdout are streams ({@link streamCommand}). */
export interface StreamingCommand {
  /** The command's stdin (`null` when `stdin: 'ignore'`). */
  stdin: NodeJS.WritableStream | null;
  /** The command's stdout. */
  stdout: NodeJS.ReadableStream;
  /**
   * Settles once the command has exited and its stdout has closed: its exit
   * status (a signal counts as 128 + its number) and the end of its stderr
   * (`stdout` is `''`: it was streamed). A missing binary is `notFoundCode`.
   */
  exited: ResultAsync<CommandOutput, LibpodError>;
  /** Sends `signal` (default SIGKILL) to the command if it still runs. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `file args` with piped stdin / stdout (for data streamed through a
 * host tool, such as GNU tar). Stderr is collected (its last 64 KiB).
 */
export function streamCommand(
  file: string,
  args: readonly string[],
  opts: Pick<RunCommandOptions, 'env' | 'cwd' | 'notFoundCode'> & { stdin?: 'pipe' | 'ignore' } = {},
): StreamingCommand {
  const child = spawn(file, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-65536);
  });
  // a command that exits without reading all its input makes writes fail (EPIPE): its exit status says why
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<CommandOutput>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? libpodError(opts.notFoundCode ?? 'OCIRuntimeNotFound', `${file}: executable not found`, e) : toLibpodError(e, 'Internal', file));
    });
    child.once('close', (code, signal) => {
      resolve({ stdout: '', stderr, code: code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0) });
    });
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout as NodeJS.ReadableStream,
    exited: ResultAsync.fromPromise(exited, (e) => toLibpodError(e, 'Internal', file)),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
