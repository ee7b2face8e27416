/**
 * mount(2) and umount2(2) called directly (through koffi, `host/libc.ts`)
 * instead of the `mount` / `umount` programs: a process spawned from Node
 * costs milliseconds on a busy host, the syscalls do not. The calls run on
 * koffi's worker threads (an overlay unmount syncs the upper filesystem:
 * never on the event loop). Any failure resolves `false` and the caller
 * falls back to the programs, which say why (errno is not carried across
 * koffi's threads).
 * @module
 */
import { logger } from '../util/log.js';
import { loadKoffiLibc } from './libc.js';

const log = logger('host:mount');

type Call = (...args: unknown[]) => void;

let fns: Promise<{ mount: Call; umount2: Call } | undefined> | undefined;

function syscalls(): Promise<{ mount: Call; umount2: Call } | undefined> {
  fns ??= loadKoffiLibc().then(
    ({ lib }) => ({
      mount: lib.func('int mount(const char *, const char *, const char *, unsigned long, const char *)').async as Call,
      umount2: lib.func('int umount2(const char *, int)').async as Call,
    }),
    (e: unknown) => {
      log('koffi unavailable: %s', e instanceof Error ? e.message : String(e));
      return undefined;
    },
  );
  return fns;
}

function call(f: Call, args: unknown[]): Promise<boolean> {
  return new Promise((resolve) => f(...args, (e: unknown, r: number) => resolve(!e && r === 0)));
}

/** Mounts a filesystem of `type` (no flags) at `target` with option string `data`; `false` when it failed. */
export async function mountSyscall(type: string, target: string, data: string): Promise<boolean> {
  const s = await syscalls();
  return s !== undefined && call(s.mount, [type, target, type, 0, data]);
}

/** Unmounts `target` (no flags); `false` when it failed (busy, not mounted, ...). */
export async function umountSyscall(target: string): Promise<boolean> {
  const s = await syscalls();
  return s !== undefined && call(s.umount2, [target, 0]);
}
