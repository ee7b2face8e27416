/**
 * Where the conmon runtime keeps its files.
 *
 * ```
 * <runRoot>/                         volatile root of the engine (MUST NOT be world-writable)
 *   exits/<id>                       exit file conmon writes (0700 dir, shared by all containers)
 *   oci/<id>/                        per-container volatile files (0700)
 *     pidfile                        container init pid (runc --pid-file)
 *     conmon.pid                     the monitor's pid (--conmon-pidfile)
 *     oci-log                        runc's JSON error log (--log)
 *     bundle                         the bundle path, so a later process finds attach/ctl/oom
 *     exec/<sessionId>/              one exec session: conmon's bundle and cwd for it
 *       exec-process-<rand>          the process JSON (runc exec --process)
 *       exec_pid  oci-log  attach ctl winsz
 *       exit/<id>                    the session's exit file
 *   runc/                            runc --root (default; configurable)
 * <bundle>/                          owned by the engine; conmon's cwd
 *   config.json                      written by the engine
 *   attach ctl winsz oom             made by conmon
 * ```
 *
 * Exec sessions live in the volatile root (libpod keeps them in the bundle):
 * they cannot outlive a reboot, and their sockets, FIFOs and pid files are
 * written on every exec, so a tmpfs `/run` keeps them off the disk.
 * @module
 */
import { join } from 'node:path';

/** Paths below one runRoot. Pure arithmetic. */
export class Layout {
  /** The shared exit directory. */
  readonly exitsDir: string;
  /** The parent of the per-container directories. */
  readonly ociDir: string;

  constructor(readonly runRoot: string) {
    this.exitsDir = join(runRoot, 'exits');
    this.ociDir = join(runRoot, 'oci');
  }

  /** `<runRoot>/oci/<id>`. */
  ctrDir(id: string): string {
    return join(this.ociDir, id);
  }

  /** The container init's pid file. */
  pidFile(id: string): string {
    return join(this.ctrDir(id), 'pidfile');
  }

  /** The monitor's pid file. */
  conmonPidFile(id: string): string {
    return join(this.ctrDir(id), 'conmon.pid');
  }

  /** runc's JSON error log for create. */
  ociLog(id: string): string {
    return join(this.ctrDir(id), 'oci-log');
  }

  /** Where the bundle path is recorded. */
  bundleRecord(id: string): string {
    return join(this.ctrDir(id), 'bundle');
  }

  /** `<runRoot>/exits/<id>`. */
  exitFile(id: string): string {
    return join(this.exitsDir, id);
  }

  /** The paths of exec session `sessionId` of container `id`. */
  execPaths(id: string, sessionId: string): ExecPaths {
    return new ExecPaths(join(this.ctrDir(id), 'exec', sessionId), sessionId);
  }
}

/** Paths of one exec session (see {@link Layout.execPaths}). */
export class ExecPaths {
  /** The session's exit directory. */
  readonly exitDir: string;
  /** The exec process pid (runc exec --pid-file). */
  readonly pidFile: string;
  /** runc's JSON error log for the exec. */
  readonly ociLog: string;

  /** @param dir the session's directory: conmon's bundle and cwd for the exec. */
  constructor(readonly dir: string, readonly sessionId: string) {
    this.exitDir = join(this.dir, 'exit');
    this.pidFile = join(this.dir, 'exec_pid');
    this.ociLog = join(this.dir, 'oci-log');
  }
}

/** Whether `name` is safe as one path component and as an exit file name (no `.`: conmon's temp names have one). */
export function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) && name.length <= 255;
}
