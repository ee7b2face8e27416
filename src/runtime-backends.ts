/**
 * What `Runtime.open` builds from its options: the state store, the OCI
 * runtime, and the root directories (mode 0700: runRoot holds sockets and
 * must not be world-writable).
 * @module
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from './define/errors.js';
import { ConmonOciRuntime } from './oci/conmon/conmon-oci-runtime.js';
import { FakeOciRuntime } from './oci/fake/fake-oci-runtime.js';
import type { OciRuntime } from './oci/oci-runtime.js';
import type { NetworkBackend } from './network/backend.js';
import { FakeNetworkBackend } from './network/fake/fake-network-backend.js';
import { NetavarkNetworkBackend } from './network/netavark/netavark-backend.js';
import type { ResolvedRuntimeOptions } from './runtime-options.js';
import { LevelStateStore } from './state/level-state-store.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import type { StateStore } from './state/state-store.js';

/** The store named by the options (LevelDB under `<root>/state` by default). */
export function makeStore(o: ResolvedRuntimeOptions): StateStore {
  if (o.store === 'memory') return new MemoryStateStore();
  if (o.store === 'level') return new LevelStateStore(join(o.root, 'state'));
  return o.store;
}

/** The OCI runtime named by the options. */
export function makeOci(o: ResolvedRuntimeOptions): OciRuntime {
  if (o.ociRuntime === 'fake') return new FakeOciRuntime();
  if (o.ociRuntime === 'runc' || o.ociRuntime === 'crun') return new ConmonOciRuntime({ runtime: o.ociRuntime });
  return o.ociRuntime;
}

/** The network backend named by the options. */
export function makeNetwork(o: ResolvedRuntimeOptions): NetworkBackend {
  if (o.networkBackend === 'fake') return new FakeNetworkBackend();
  if (o.networkBackend === 'netavark') return new NetavarkNetworkBackend();
  return o.networkBackend;
}

/** Creates root and runRoot with mode 0700. */
export function makeDirs(o: ResolvedRuntimeOptions): Result<void, LibpodError> {
  try {
    for (const dir of [o.root, o.runRoot]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    return ok(undefined);
  } catch (e) {
    return err(libpodError('InvalidArg', `cannot create runtime directories: ${(e as Error).message}`, e));
  }
}

