/**
 * conmon's exit command for containers with bridge networking (libpod's
 * `podman container cleanup`, network part): `exit-command <pending file>
 * <token>`. Undoes the container's networking when nobody did yet, without
 * the state store, so it works with no Runtime open and beside one (see
 * `network/exit-teardown.ts`). Exit status 0 when done or nothing to do.
 * @module
 */
import { runExitTeardown } from '../network/exit-teardown.js';

const [path, token] = process.argv.slice(2);
if (path === undefined || token === undefined) {
  process.stderr.write('usage: exit-command <pending teardown file> <token>\n');
  process.exit(2);
}
const result = await runExitTeardown(path, token);
if (result.isErr()) {
  process.stderr.write(`libpod-ts exit command: ${result.error.message}\n`);
  process.exit(1);
}
