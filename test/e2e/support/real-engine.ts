/**
 * The set-up most real-container suites share: a leak snapshot, private
 * roots, a busybox rootfs and a Runtime (conmon + runc) opened before the
 * suite; after it, every container it made is force-removed, the runtime
 * closed, and nothing may have leaked under the roots. Suites with more to
 * set up and check (networking: `net-engine.ts`) extend it through
 * {@link RealEngineHooks}.
 *
 * ```ts
 * describe('...', () => {
 *   const e = useRealEngine('lpts-mine-');
 *   it('...', async () => { const c = await e.create({ command: ['/bin/true'] }); ... });
 * });
 * ```
 * @module
 */
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Runtime, type Container, type ContainerCreateOptions, type RuntimeOptions } from '../../../src/index.js';
import { buildBusyboxRootfs } from '../../fixtures/busybox-rootfs.js';
import { must } from '../../support/engine.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot, type TestRoots } from './leaks.js';

/** What {@link useRealEngine} gives a suite (valid inside its tests and later hooks). */
export interface RealEngine {
  readonly rt: Runtime;
  readonly rootfs: string;
  readonly roots: TestRoots;
  /** Creates a container (default command `/bin/sleep 1000` on the busybox rootfs) that the suite removes at the end. */
  create(opts?: Partial<ContainerCreateOptions>): Promise<Container>;
  /** Has the suite remove `c` at the end. */
  track(c: Container): Container;
}

/** What a suite adds to {@link useRealEngine}'s set-up and tear-down, in their order. */
export interface RealEngineHooks {
  /** More `Runtime.open` options. */
  runtime?: Partial<RuntimeOptions>;
  /** After the runtime opened (before any test). */
  opened?(rt: Runtime): Promise<void>;
  /** After the tests, before the suite's containers are removed. */
  beforeRemoval?(rt: Runtime): Promise<void>;
  /** After they are removed, before the runtime closes. */
  beforeClose?(rt: Runtime): Promise<void>;
  /** After the host leak check, before the roots are removed: more leak checks. */
  leakCheck?(roots: TestRoots): Promise<void>;
}

/** Registers the suite's `before` / `after` hooks; call it at the top of a `describe`. */
export function useRealEngine(prefix: string, hooks: RealEngineHooks = {}): RealEngine {
  let snapshot: HostSnapshot;
  let roots: TestRoots | undefined;
  let rt: Runtime | undefined;
  let rootfs = '';
  const made: Container[] = [];
  const opened = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useRealEngine: used before its before() hook ran');
    return v;
  };

  before(async () => {
    snapshot = await snapshotHost();
    roots = await makeTestRoots(prefix);
    rootfs = await buildBusyboxRootfs(join(roots.dir, 'rootfs'));
    rt = await must(Runtime.open({ root: roots.root, runRoot: roots.runRoot, ...hooks.runtime }));
    await hooks.opened?.(rt);
  });

  after(async () => {
    const r = opened(rt);
    const dirs = opened(roots);
    await hooks.beforeRemoval?.(r);
    for (const c of made) await r.removeContainer(c, { force: true, timeout: 0 });
    await hooks.beforeClose?.(r);
    await must(r.close());
    await assertNoLeaks(snapshot, { roots: [dirs.dir], runcRoots: [join(dirs.runRoot, 'runc')] });
    await hooks.leakCheck?.(dirs);
    await dirs.cleanup();
  });

  const track = (c: Container): Container => {
    made.push(c);
    return c;
  };
  return {
    get rt() {
      return opened(rt);
    },
    get rootfs() {
      return rootfs;
    },
    get roots() {
      return opened(roots);
    },
    track,
    create: async (opts = {}) => track(await must(opened(rt).newContainer({ rootfs, command: ['/bin/sleep', '1000'], ...opts }))),
  };
}
