/**
 * The files a container's conmon leaves behind, and their removal (libpod's
 * `removeConmonFiles`): the exit file, `<runRoot>/oci/<id>` (pid files, logs,
 * exec sessions) and the sockets and FIFOs conmon makes in the bundle.
 * @module
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConmonContext } from './runtime-context.js';

/** Files conmon leaves in the bundle. */
export const CONMON_BUNDLE_FILES = ['attach', 'ctl', 'winsz', 'oom'] as const;

/** Removes what a run of `id` left: exit file, volatile dir, conmon's bundle files. */
export async function removeConmonFiles(ctx: ConmonContext, id: string, bundlePath: string | undefined): Promise<void> {
  const paths = [ctx.layout.exitFile(id), ctx.layout.ctrDir(id)];
  if (bundlePath !== undefined) paths.push(...CONMON_BUNDLE_FILES.map((f) => join(bundlePath, f)));
  await Promise.all(paths.map((p) => rm(p, { recursive: true, force: true })));
}
