/**
 * The shared OciRuntime conformance suite against ConmonOciRuntime over real
 * conmon + runc, with busybox containers (root only). One rootfs is shared
 * (read-only in every spec); each case gets fresh roots. The file ends by
 * asserting that no conmon/runc process and no runc container it made remain.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConmonOciRuntime } from '../../src/oci/conmon/conmon-oci-runtime.js';
import type { OciCreateRequest } from '../../src/oci/oci-runtime.js';
import { OCI_CONFORMANCE_ARGS, runOciRuntimeConformance, type OciConformanceHarness } from '../../src/testing/oci-runtime-conformance.js';
import { makeBusyboxRootfs, type BusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { writeMinimalSpec } from '../fixtures/minimal-spec.js';
import { assertNoLeaks, makeTestRoots, snapshotHost, type HostSnapshot } from './support/leaks.js';

const isRoot = process.getuid?.() === 0;

/** Everything this file creates lives below this directory. */
let base: string;
let rootfs: BusyboxRootfs;
let snapshot: HostSnapshot;

before(async () => {
  if (!isRoot) return;
  base = await mkdtemp(join(tmpdir(), 'lpts-conf-'));
  snapshot = await snapshotHost();
  rootfs = await makeBusyboxRootfs({ parent: base });
});

after(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

async function conmonHarness(): Promise<OciConformanceHarness> {
  const roots = await makeTestRoots(relative(tmpdir(), join(base, 'c-')));
  const runtime = new ConmonOciRuntime();
  return {
    runtime,
    env: { root: roots.root, runRoot: roots.runRoot },
    async request(behaviour): Promise<OciCreateRequest> {
      const id = randomBytes(32).toString('hex');
      const bundlePath = join(roots.root, 'containers', id, 'userdata');
      await mkdir(bundlePath, { recursive: true });
      const spec = await writeMinimalSpec(bundlePath, { rootfs: rootfs.path, args: [...OCI_CONFORMANCE_ARGS[behaviour]] });
      return { id, name: `ctr-${id.slice(0, 8)}`, bundlePath, spec, logPath: join(bundlePath, 'ctr.log') };
    },
    async exit(id) {
      // Behind the runtime's back: SIGKILL the container's init from the host.
      const st = await runtime.status(id);
      if (st.isErr() || st.value.pid <= 0) throw new Error(`container ${id} has no pid to signal`);
      process.kill(st.value.pid, 'SIGKILL');
      return 137;
    },
    cleanup: () => roots.cleanup(),
  };
}

describe('conmon conformance', { skip: isRoot ? false : 'needs root' }, () => {
  runOciRuntimeConformance('conmon + runc', conmonHarness);

  it('leaves no conmon or runc process and no runc container behind', async () => {
    await assertNoLeaks(snapshot, { roots: [base], graceMs: 10_000 });
  });
});
