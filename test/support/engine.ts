/**
 * Test support: a Runtime on the fake OCI runtime and the memory store, in
 * fresh temp directories, with a throwaway rootfs directory.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result, ResultAsync } from 'neverthrow';
import { FakeNetworkBackend, FakeOciRuntime, MemoryStateStore, Runtime, type Container, type ContainerCreateOptions, type LibpodError, type StateStore } from '../../src/index.js';

export interface FakeEngine {
  runtime: Runtime;
  fake: FakeOciRuntime;
  /** The fake network backend (setups it saw, scripted failures). */
  network: FakeNetworkBackend;
  store: StateStore;
  root: string;
  runRoot: string;
  rootfs: string;
  /** Reopens a runtime over the same store, fake runtime and dirs. */
  reopen(): Promise<Runtime>;
  /** Creates a container with test defaults. */
  create(opts?: Partial<ContainerCreateOptions>): Promise<Container>;
  dispose(): Promise<void>;
}

/** Unwraps a Result in tests, failing loudly with the error code. */
export async function must<T>(r: ResultAsync<T, LibpodError> | Promise<Result<T, LibpodError>>): Promise<T> {
  const res = await r;
  if (res.isErr()) throw new Error(`expected Ok, got ${res.error.code}: ${res.error.message}`);
  return res.value;
}

/** Resolves to the error of a failed Result (fails the test on Ok). */
export async function mustFail<T>(r: ResultAsync<T, LibpodError> | Promise<Result<T, LibpodError>>): Promise<LibpodError> {
  const res = await r;
  if (res.isOk()) throw new Error(`expected Err, got Ok(${JSON.stringify(res.value)})`);
  return res.error;
}

export async function fakeEngine(opts: { store?: StateStore } = {}): Promise<FakeEngine> {
  const base = await mkdtemp(join(tmpdir(), 'libpod-ts-test-'));
  const root = join(base, 'root');
  const runRoot = join(base, 'run');
  const rootfs = join(base, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  const fake = new FakeOciRuntime();
  const store = opts.store ?? new MemoryStateStore();
  const network = new FakeNetworkBackend();
  const open = async () => must(Runtime.open({ root, runRoot, store, ociRuntime: fake, networkBackend: network, registries: { search: [] } }));
  const engine: FakeEngine = {
    runtime: await open(),
    fake,
    network,
    store,
    root,
    runRoot,
    rootfs,
    async reopen() {
      engine.runtime = await open();
      return engine.runtime;
    },
    async create(o = {}) {
      return must(engine.runtime.newContainer({ rootfs, command: ['/bin/sleep', '1000'], ...o }));
    },
    async dispose() {
      await engine.runtime.close();
      await rm(base, { recursive: true, force: true });
    },
  };
  return engine;
}

/** Sleeps `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
