/**
 * The OCI layer alone: libpod-ts's {@link ConmonOciRuntime} (conmon + runc,
 * as libpod drives them) with no engine above it: no state store, locks,
 * events or lifecycle rules. Its time is what libpod's model costs by itself
 * (conmon, then `runc create`, `runc start` and `runc delete`); libpod-ts
 * minus this is the engine's own overhead. {@link ociLayer} is shared with
 * the networking floor (bench/network-floor.ts).
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attempt } from '../src/define/errors.js';
import { defaultContainerConfig } from '../src/testing/records.js';
import { generateExecSessionId, generateId } from '../src/define/ids.js';
import { ConmonOciRuntime } from '../src/oci/conmon/conmon-oci-runtime.js';
import { execProcess, generateSpec } from '../src/container/oci-spec.js';
import { chooseSeccompProfile } from '../src/container/seccomp.js';
import type { OciCreateRequest } from '../src/oci/oci-runtime.js';
import type { OciProcess } from '../src/oci/oci-spec-types.js';
import { must, type Subject } from './measure.js';

const EXIT_TIMEOUT_MS = 10_000;

/** A container the OCI layer created and started. */
export interface OciContainer {
  id: string;
  process: OciProcess;
}

/** The OCI layer driven directly: create+start, wait for the exit, delete. */
export interface OciLayer {
  readonly oci: ConmonOciRuntime;
  /** Bundle directory of container `id`. */
  bundleOf(id: string): string;
  /**
   * Creates (spec from the engine's own generator, engine defaults) and starts a container, in
   * network namespace `netns` if given, with conmon holding `reservePorts` (as the engine asks
   * for published ports).
   */
  createAndStart(command: string[], opts?: { netns?: string; reservePorts?: OciCreateRequest['reservePorts'] }): Promise<OciContainer>;
  /** Waits for the exit of `/bin/true` (status 0). */
  waitTrue(id: string): Promise<void>;
  /** Deletes the container and its bundle. */
  remove(id: string): Promise<void>;
  /** Deletes every container left, closes the runtime. */
  close(): Promise<void>;
}

/** The OCI layer with its root and bundles below `workDir`, runRoot `runDir`. */
export async function ociLayer(workDir: string, runDir: string, rootfs: string): Promise<OciLayer> {
  const oci = new ConmonOciRuntime();
  must(await oci.open({ root: join(workDir, 'root'), runRoot: runDir }), 'open');
  const live = new Set<string>();
  const bundleOf = (id: string): string => join(workDir, 'bundles', id);
  const remove = async (id: string): Promise<void> => {
    must(await oci.delete(id), 'delete');
    await rm(bundleOf(id), { recursive: true, force: true });
    live.delete(id);
  };
  return {
    oci,
    bundleOf,
    createAndStart: async (command, { netns, reservePorts } = {}) => {
      const id = generateId();
      const bundlePath = bundleOf(id);
      const config = defaultContainerConfig(`bench-${id.slice(0, 12)}`, { rootfs, command, network: 'none' });
      // The profile the engine gives every container (podman's default seccomp profile), so the floor
      // pays what the engine pays: runc compiles and loads the filter at every create and exec.
      const seccompProfile = must(chooseSeccompProfile(config, { required: true }), 'seccomp profile');
      const spec = must(
        generateSpec({
          id,
          config,
          rootfsPath: rootfs,
          volumeMounts: [],
          ...(netns ? { namespacePaths: { net: netns } } : {}),
          ...(seccompProfile ? { seccompProfile } : {}),
        }),
        'generateSpec',
      );
      await mkdir(bundlePath, { recursive: true, mode: 0o700 });
      // Written while conmon starts, as the engine does.
      const bundleReady = attempt(() => writeFile(join(bundlePath, 'config.json'), JSON.stringify(spec)));
      live.add(id);
      const logPath = join(bundlePath, 'ctr.log');
      must(await oci.create({ id, name: config.name, bundlePath, spec, bundleReady, logPath, ...(reservePorts ? { reservePorts } : {}) }), 'create');
      must(await oci.start(id), 'start');
      if (!spec.process) throw new Error('generated spec without process');
      return { id, process: spec.process };
    },
    waitTrue: async (id) => {
      const exit = must(await oci.waitExit(id, EXIT_TIMEOUT_MS), 'waitExit');
      if (exit?.exitCode !== 0) throw new Error(`/bin/true exited with ${exit?.exitCode ?? 'nothing (timeout)'}`);
    },
    remove,
    close: async () => {
      for (const id of [...live]) await remove(id);
      must(await oci.close(), 'close');
    },
  };
}

/** The OCI layer as a subject of the lifecycle rows. */
export async function ociLayerSubject(workDir: string, runDir: string, rootfs: string): Promise<Subject> {
  const layer = await ociLayer(workDir, runDir, rootfs);
  let target: OciContainer | undefined;
  return {
    key: 'oci',
    run: async () => {
      const { id } = await layer.createAndStart(['/bin/true']);
      await layer.waitTrue(id);
      await layer.remove(id);
    },
    startExecTarget: async () => {
      target = await layer.createAndStart(['/bin/sleep', '3600']);
    },
    exec: async () => {
      if (!target) throw new Error('no exec target');
      const { id } = target;
      const sessionId = generateExecSessionId();
      const proc = must(execProcess(target.process, { command: ['/bin/true'], tty: false, privileged: false, rootfsPath: rootfs }), 'execProcess');
      const session = must(await layer.oci.execute(id, { sessionId, bundlePath: layer.bundleOf(id), process: proc }), 'execute');
      const code = must(await session.exited, 'exec');
      if (code !== 0) throw new Error(`exec /bin/true exited with ${code}`);
      must(await layer.oci.execCleanup(id, sessionId, layer.bundleOf(id)), 'execCleanup');
    },
    close: () => layer.close(),
  };
}
