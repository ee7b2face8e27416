/**
 * conmon's argv, built in the order libpod 4.3 builds it
 * (`sharedConmonArgs` plus the create or exec tail). Pure functions.
 *
 * A container's conmon gets an `--exit-command`, as libpod's does: libpod
 * runs `podman container cleanup`, which deletes the container from the
 * runtime; here conmon runs that runtime step itself (`<runtime> delete
 * --force <id>`) right after writing the exit file, whether or not a Node
 * process is alive. The rest of cleanup (state, storage, restart policy) is
 * the engine's, on its next sync of the exit file. A create's `exitHook`
 * (the engine's network teardown) is started in the background after that
 * delete, through `/bin/sh`: conmon, and so `stop` and `delete`, which wait
 * for conmon, do not wait for it.
 * @module
 */

/** conmon's `--log-level` values (logrus names). */
export type ConmonLogLevel = 'error' | 'warning' | 'info' | 'debug' | 'trace';

/** What both the create and the exec argv share. */
export interface SharedConmonArgs {
  /** Container id (`-c`). */
  id: string;
  /** `-u`: the container id for create, the session id for exec. */
  cuuid: string;
  /** Container name (`-n`). */
  name: string;
  /** Absolute path of the OCI runtime (`-r`). */
  runtimePath: string;
  /** Global runtime flags, each passed as `--runtime-arg`. */
  runtimeArgs: readonly string[];
  /** Bundle (`-b`): the container bundle, or the exec session directory. */
  bundlePath: string;
  /** Pid file the runtime writes (`-p`). */
  pidFile: string;
  /** Exit directory (`--exit-dir`). */
  exitDir: string;
  /** `-l` value: `k8s-file:<path>` or `none`. */
  logDriver: string;
  /** conmon's `--log-level`. */
  logLevel: ConmonLogLevel;
  /** Where the runtime writes its JSON error log (`--log`). */
  ociLogPath: string;
}

/** The create (or restore) argv tail. */
export interface CreateConmonArgs extends SharedConmonArgs {
  /** `process.terminal`: passes `-t`. */
  terminal: boolean;
  /** Keep stdin open: passes `-i` (only without a terminal). */
  stdin: boolean;
  /** Where the first conmon writes the monitor's pid (`--conmon-pidfile`). */
  conmonPidFile: string;
  /** Restore from this checkpoint directory (`--restore`). */
  restoreFrom?: string;
  /** With `restoreFrom`: restore established TCP connections (`--runtime-opt --tcp-established`, as libpod). */
  restoreTcpEstablished?: boolean;
  /** What conmon runs once the container exited (`--exit-command`, then one `--exit-command-arg` each); absolute path first. */
  exitCommand?: readonly string[];
}

/** The exec argv tail. */
export interface ExecConmonArgs extends SharedConmonArgs {
  /** The exec process has a terminal: `-t`. */
  terminal: boolean;
  /** stdin is attached: `-i`. */
  stdin: boolean;
  /** The process JSON (`--exec-process-spec`). */
  processSpecPath: string;
}

/** libpod's `sharedConmonArgs`. */
export function sharedConmonArgs(a: SharedConmonArgs): string[] {
  const args = [
    '--api-version', '1',
    '-c', a.id,
    '-u', a.cuuid,
    '-r', a.runtimePath,
    '-b', a.bundlePath,
    '-p', a.pidFile,
    '-n', a.name,
    '--exit-dir', a.exitDir,
    '--full-attach',
  ];
  for (const flag of a.runtimeArgs) args.push('--runtime-arg', flag);
  args.push('-l', a.logDriver, '--log-level', a.logLevel);
  args.push('--runtime-arg', '--log-format=json', '--runtime-arg', '--log', `--runtime-arg=${a.ociLogPath}`);
  return args;
}

/** The argv of a create (or restore) conmon. */
export function createConmonArgs(a: CreateConmonArgs): string[] {
  const args = sharedConmonArgs(a);
  if (a.terminal) args.push('-t');
  else if (a.stdin) args.push('-i');
  args.push('--conmon-pidfile', a.conmonPidFile);
  if (a.restoreFrom !== undefined) args.push('--restore', a.restoreFrom);
  if (a.restoreFrom !== undefined && a.restoreTcpEstablished) args.push('--runtime-opt', '--tcp-established');
  const [command, ...commandArgs] = a.exitCommand ?? [];
  if (command !== undefined) {
    args.push('--exit-command', command);
    for (const arg of commandArgs) args.push('--exit-command-arg', arg);
  }
  return args;
}

/** `'...'`: one shell word, whatever `s` holds. */
function shellWord(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * The exit command running `command`, then starting `hook` in the
 * background (stdio on /dev/null) when there is one.
 */
export function withExitHook(command: readonly string[], hook: readonly string[] | undefined): string[] {
  if (!hook || hook.length === 0) return [...command];
  return ['/bin/sh', '-c', `${command.map(shellWord).join(' ')}; ${hook.map(shellWord).join(' ')} </dev/null >/dev/null 2>&1 &`];
}

/** The argv of an exec conmon (always `--exec-attach`: the parent attaches before the process starts). */
export function execConmonArgs(a: ExecConmonArgs): string[] {
  const args = sharedConmonArgs(a);
  if (a.terminal) args.push('-t');
  if (a.stdin) args.push('-i');
  args.push('-e', '--exec-attach', '--exec-process-spec', a.processSpecPath);
  return args;
}

/**
 * conmon's environment (libpod's `configureConmonEnv`): `PATH`, `LC_*`,
 * `XDG_RUNTIME_DIR`, `HOME` and the container-tool variables when set, plus
 * the pipe numbers.
 */
export function conmonEnv(pipes: { sync: number; start: number; attach?: number }, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) if (k.startsWith('LC_') && v !== undefined) env[k] = v;
  env['PATH'] = from['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const k of ['CONTAINERS_CONF', 'CONTAINERS_HELPER_BINARY_DIR', 'XDG_RUNTIME_DIR', 'HOME']) {
    const v = from[k];
    if (v !== undefined && v !== '') env[k] = v;
  }
  env['_OCI_SYNCPIPE'] = String(pipes.sync);
  env['_OCI_STARTPIPE'] = String(pipes.start);
  if (pipes.attach !== undefined) env['_OCI_ATTACHPIPE'] = String(pipes.attach);
  return env;
}
