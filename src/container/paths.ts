/**
 * Where a container's files live. Pure path arithmetic: nothing here touches
 * the disk.
 *
 * On-disk layout (libpod's, simplified to one storage driver):
 *
 * ```
 * <root>/containers/<id>/               staticDir: persistent, removed with the container
 *   userdata/                           bundlePath: the OCI bundle
 *     config.json                       the generated runtime spec
 *     ctr.log                           k8s-file log written by conmon
 *     checkpoint/                       CRIU image of the last checkpoint
 *   artifacts/<name>                    caller-stored artifacts
 *   overlay/{upper,work,merged}         the per-container overlay (rootfsOverlay)
 * <runRoot>/containers/<id>/            runDir: volatile (pid files, exit files, sockets)
 * ```
 * @module
 */
import { isAbsolute, join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';

/** Every path of one container. All are absolute when `root` and `runRoot` are. */
export interface ContainerPaths {
  /** `<root>/containers/<id>`: the container's persistent directory. */
  staticDir: string;
  /** `<staticDir>/userdata`: the OCI bundle. */
  bundlePath: string;
  /** `<bundlePath>/config.json`: the runtime spec. */
  configJson: string;
  /** `<bundlePath>/ctr.log`: the k8s-file log. */
  logPath: string;
  /** `<staticDir>/artifacts`: artifacts stored with the container. */
  artifactsDir: string;
  /** `<staticDir>/overlay/upper`: the overlay's writable layer. */
  overlayUpper: string;
  /** `<staticDir>/overlay/work`: overlayfs's work directory. */
  overlayWork: string;
  /** `<staticDir>/overlay/merged`: where the overlay is mounted. */
  overlayMerged: string;
  /** `<bundlePath>/checkpoint`: the CRIU image directory. */
  checkpointDir: string;
  /** `<runRoot>/containers/<id>`: volatile per-container files. */
  runDir: string;
}

/** The paths of container `id` under `root` (persistent) and `runRoot` (volatile). */
export function containerPaths(root: string, runRoot: string, id: string): ContainerPaths {
  const staticDir = join(root, 'containers', id);
  const bundlePath = join(staticDir, 'userdata');
  const overlay = join(staticDir, 'overlay');
  return {
    staticDir,
    bundlePath,
    configJson: join(bundlePath, 'config.json'),
    logPath: join(bundlePath, 'ctr.log'),
    artifactsDir: join(staticDir, 'artifacts'),
    overlayUpper: join(overlay, 'upper'),
    overlayWork: join(overlay, 'work'),
    overlayMerged: join(overlay, 'merged'),
    checkpointDir: join(bundlePath, 'checkpoint'),
    runDir: join(runRoot, 'containers', id),
  };
}

/**
 * The path of artifact `name` inside `artifactsDir`. A name that could
 * escape the directory (empty, `.`, `..`, containing `/` or NUL, absolute)
 * is `InvalidArg`.
 */
export function artifactPath(artifactsDir: string, name: string): Result<string, LibpodError> {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || isAbsolute(name)) {
    return err(libpodError('InvalidArg', `invalid artifact name ${JSON.stringify(String(name))}: must be a plain file name`));
  }
  return ok(join(artifactsDir, name));
}
