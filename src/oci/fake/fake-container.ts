/**
 * One container of {@link FakeOciRuntime}: its runc-like state, the exit
 * record, what it received (signals, stdin, sizes), and its attach and exec
 * sessions. Exit waiters wait on a promise resolved by {@link FakeContainer.finish}:
 * nothing polls.
 * @module
 */
import { appendFileSync } from 'node:fs';
import type { AttachStreams, TerminalSize } from '../../define/streams.js';
import { formatK8sRecords } from '../k8s-file-log.js';
import type { OciExitInfo } from '../oci-runtime.js';
import type { OciSpec } from '../oci-spec-types.js';
import { deferred, writeTo, type Deferred, type FakeAttachSession } from './fake-attach.js';
import type { FakeContainerState } from './fake-types.js';

/** SIGKILL: ends hung exec sessions when their container dies. */
const SIGKILL_EXIT = 137;

/** An exec'd process of a fake container. */
export interface FakeExecProcess {
  sessionId: string;
  args: string[];
  pid: number;
  tty: boolean;
  streams: AttachStreams;
  alive: boolean;
  exitCode?: number;
  /** Ignores execStop's SIGTERM. */
  ignoreSigterm: boolean;
  size?: TerminalSize;
  /** Resolved with the exit code when the process ends. */
  done: Deferred<number>;
}

/** What `create` gives a fake container. */
export interface FakeContainerInit {
  id: string;
  name: string;
  bundlePath: string;
  spec: OciSpec;
  logPath: string;
  pid: number;
  monitorPid: number;
}

/** The runtime's record of one container. */
export class FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly bundlePath: string;
  readonly spec: OciSpec;
  readonly logPath: string;
  readonly pid: number;
  readonly monitorPid: number;
  state: FakeContainerState = 'created';
  exit?: OciExitInfo;
  /** Signals received through kill/stop, in order. */
  readonly signals: number[] = [];
  /** Signals the process ignores. */
  readonly ignored = new Set<number>();
  /** Everything written to its stdin by attached callers. */
  stdin = '';
  /** Last terminal size set by `resize`. */
  size?: TerminalSize;
  /** The checkpoint image it was restored from. */
  restoredFrom?: string;
  readonly attachments = new Set<FakeAttachSession>();
  readonly execs = new Map<string, FakeExecProcess>();
  private readonly exited: Deferred<OciExitInfo | undefined> = deferred();

  constructor(init: FakeContainerInit) {
    this.id = init.id;
    this.name = init.name;
    this.bundlePath = init.bundlePath;
    this.spec = init.spec;
    this.logPath = init.logPath;
    this.pid = init.pid;
    this.monitorPid = init.monitorPid;
  }

  /** Resolves with the exit once the process ended, or `undefined` if the container is deleted first. */
  get exitPromise(): Promise<OciExitInfo | undefined> {
    return this.exited.promise;
  }

  /** Whether the process still exists (created, running or paused). */
  get alive(): boolean {
    return this.state !== 'stopped';
  }

  /** Whether the container has a terminal (all output is stdout then). */
  get terminal(): boolean {
    return this.spec.process?.terminal === true;
  }

  /** Appends output to the k8s-file log and copies it to every attach session. Throws on log I/O errors. */
  emit(stream: 'stdout' | 'stderr', text: string): void {
    const logStream = this.terminal ? 'stdout' : stream;
    if (this.logPath) appendFileSync(this.logPath, formatK8sRecords(logStream, text));
    for (const session of this.attachments) session.write(stream, text);
  }

  /** Records the process's exit: state `stopped`, waiters resolved, sessions ended, exec processes killed. */
  finish(exitCode: number, oomKilled = false): OciExitInfo {
    const info: OciExitInfo = { exitCode, finishedAt: new Date(), oomKilled };
    this.state = 'stopped';
    this.exit = info;
    for (const exec of this.execs.values()) endExec(exec, SIGKILL_EXIT);
    this.endAttachments();
    this.exited.resolve(info);
    return info;
  }

  /** The container is being deleted: waiters get `undefined`, sessions end. */
  forget(): void {
    this.endAttachments();
    this.exited.resolve(undefined);
  }

  private endAttachments(): void {
    for (const session of this.attachments) session.end('ended');
    this.attachments.clear();
  }
}

/** Ends an exec process with `code` (idempotent). */
export function endExec(exec: FakeExecProcess, code: number): void {
  if (!exec.alive) return;
  exec.alive = false;
  exec.exitCode = code;
  exec.done.resolve(code);
}

/** Writes an exec process's output to its streams (stderr to stdout with a terminal). */
export function writeExecOutput(exec: FakeExecProcess, stdout: string | undefined, stderr: string | undefined): void {
  writeTo(exec.streams.stdout, stdout ?? '');
  writeTo(exec.tty ? exec.streams.stdout : exec.streams.stderr, stderr ?? '');
}
