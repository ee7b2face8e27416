/**
 * The one home of `koffi` (FFI): the host's libc, loaded on first use only
 * (about 20 ms), for the few syscalls Node lacks: `socket` / `connect` of
 * SEQPACKET sockets (`oci/conmon/seqpacket-fd.ts`), `mount` / `umount2`
 * (`host/mount.ts`).
 * @module
 */
import type { IKoffiLib } from 'koffi';

/** koffi and the loaded libc. */
export interface KoffiLibc {
  /** The libc library, to declare functions with `lib.func(...)`. */
  lib: IKoffiLib;
  /** The calling thread's `errno` after a synchronous call. */
  errno(): number;
}

let loaded: Promise<KoffiLibc> | undefined;

/** Loads koffi and libc (once per process). */
export function loadKoffiLibc(): Promise<KoffiLibc> {
  loaded ??= import('koffi').then(({ default: koffi }) => ({ lib: koffi.load('libc.so.6'), errno: () => koffi.errno() }));
  return loaded;
}
