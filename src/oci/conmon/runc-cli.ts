/**
 * The OCI runtime's command line (runc, or crun, which takes the same
 * commands), run the way libpod runs it: `<runtime> --root <dir> <cmd> ...`
 * with `XDG_RUNTIME_DIR` and `PATH` in the environment. `--root` goes to
 * every call (libpod's `state` call omits its runtime flags; we do not).
 * @module
 */
import { join } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { libpodError, type ErrorCode, type LibpodError } from '../../define/errors.js';
import { runCommand, type CommandOutput } from '../../host/command.js';
import { pathExists } from '../../util/fs.js';
import { logger } from '../../util/log.js';

const log = logger('oci:conmon');

/** `runc state` output (the fields used here). */
export interface RuncState {
  id: string;
  pid: number;
  /** `created`, `running`, `paused` or `stopped`. */
  status: string;
  bundle?: string;
  created?: string;
}

/** Options of `runc checkpoint`. */
export interface RuncCheckpointOptions {
  imagePath: string;
  workPath: string;
  leaveRunning: boolean;
  tcpEstablished: boolean;
}

/** The environment libpod gives the runtime: `PATH` and `XDG_RUNTIME_DIR`. */
export function runtimeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  if (process.env['XDG_RUNTIME_DIR']) env['XDG_RUNTIME_DIR'] = process.env['XDG_RUNTIME_DIR'];
  return env;
}

/**
 * The message of a runtime failure: the `msg` of runc's last logrus line
 * (`time=... level=error msg="..."`) or of a JSON log line, else the text itself.
 */
export function runtimeMessage(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = lines[i] as string;
    if (line.startsWith('{')) {
      try {
        const parsed = JSON.parse(line) as { msg?: unknown };
        if (typeof parsed.msg === 'string') return parsed.msg;
      } catch {
        // not JSON after all: fall through to the logrus form
      }
    }
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) return (m[1] as string).replace(/\\(.)/g, '$1');
  }
  return lines.join('\n');
}

/**
 * libpod's `getOCIRuntimeError`: a message about a missing executable or file
 * is `OCIRuntimeNotFound`; anything else (permission denied included, its
 * message says so) is `OCIRuntime`. The message is `<runtime>: <text>`.
 */
export function ociRuntimeError(runtimeName: string, message: string): LibpodError {
  const text = message.trim();
  const code: ErrorCode = /executable file not found in|no such file or directory/i.test(text) && !/permission denied|operation not permitted/i.test(text) ? 'OCIRuntimeNotFound' : 'OCIRuntime';
  return libpodError(code, `${runtimeName}: ${text}`);
}

/** Runs the runtime's subcommands under one `--root`. */
export class RuncCli {
  /**
   * @param name `'runc'` or `'crun'` (used in messages).
   * @param path Absolute path of the binary.
   * @param root The runtime's state directory (`--root`).
   */
  constructor(
    readonly name: string,
    readonly path: string,
    readonly root: string,
  ) {}

  /**
   * Whether the runtime has a container `id`: its state directory
   * `<root>/<id>` exists (runc's `state.json` and crun's `status` live there).
   * A stat instead of a `runc state` process keeps create fast.
   */
  knows(id: string): Promise<boolean> {
    return pathExists(join(this.root, id));
  }

  /** The global flags every call gets, also handed to conmon as `--runtime-arg`s. */
  globalArgs(): string[] {
    return ['--root', this.root];
  }

  /** Runs `<runtime> --root <root> ...args`, whatever its exit status. */
  run(args: readonly string[], timeoutMs?: number): ResultAsync<CommandOutput, LibpodError> {
    const argv = [...this.globalArgs(), ...args];
    log('%s %s', this.name, argv.join(' '));
    return runCommand(this.path, argv, { env: runtimeEnv(), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  /** Runs a subcommand; a non-zero status is `OCIRuntime` with the runtime's message. */
  checked(args: readonly string[], timeoutMs?: number): ResultAsync<CommandOutput, LibpodError> {
    return this.run(args, timeoutMs).andThen((out) => {
      if (out.code === 0) return okAsync(out);
      const msg = runtimeMessage(out.stderr || out.stdout) || `exit status ${out.code}`;
      return errAsync(libpodError('OCIRuntime', `${this.name} ${args[0] ?? ''}: ${msg}`));
    });
  }

  /** `state`: the container's state, or `undefined` when the runtime does not know it. */
  state(id: string): ResultAsync<RuncState | undefined, LibpodError> {
    return this.run(['state', id]).andThen((out) => {
      if (out.code !== 0) {
        const text = `${out.stderr}\n${out.stdout}`;
        if (/does not exist|no such file/i.test(text)) return okAsync(undefined);
        return errAsync(libpodError('OCIRuntime', `getting container ${id} state: ${runtimeMessage(text)}`));
      }
      try {
        const st = JSON.parse(out.stdout) as RuncState;
        return okAsync(st);
      } catch (e) {
        return errAsync(libpodError('Internal', `decoding container status for container ${id}: ${String(e)}`, e));
      }
    });
  }

  /** `start <id>`. */
  start(id: string): ResultAsync<void, LibpodError> {
    return this.checked(['start', id]).map(() => undefined);
  }

  /** `kill [--all] <id> <signal>`. */
  kill(id: string, signal: number, all: boolean): ResultAsync<void, LibpodError> {
    return this.checked(all ? ['kill', '--all', id, String(signal)] : ['kill', id, String(signal)]).map(() => undefined);
  }

  /** `pause <id>`. */
  pause(id: string): ResultAsync<void, LibpodError> {
    return this.checked(['pause', id]).map(() => undefined);
  }

  /** `resume <id>`. */
  resume(id: string): ResultAsync<void, LibpodError> {
    return this.checked(['resume', id]).map(() => undefined);
  }

  /** The arguments of {@link RuncCli.delete} (also conmon's exit command). */
  static deleteArgs(id: string): string[] {
    return ['delete', '--force', id];
  }

  /** `delete --force <id>`: silent for an unknown id. */
  delete(id: string): ResultAsync<void, LibpodError> {
    return this.checked(RuncCli.deleteArgs(id)).map(() => undefined);
  }

  /** `checkpoint --image-path ... --work-path ... [--leave-running] [--tcp-established] <id>`. */
  checkpoint(id: string, opts: RuncCheckpointOptions): ResultAsync<void, LibpodError> {
    const args = ['checkpoint', '--image-path', opts.imagePath, '--work-path', opts.workPath];
    if (opts.leaveRunning) args.push('--leave-running');
    if (opts.tcpEstablished) args.push('--tcp-established');
    args.push(id);
    return this.checked(args, 10 * 60_000).map(() => undefined);
  }
}
