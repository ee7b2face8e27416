/**
 * The command line of the exit teardown (`exit-command.ts`), as the engine
 * hands it to the OCI runtime for conmon to run after the container exited.
 *
 * It waits {@link EXIT_TEARDOWN_DELAY_S} second first and starts Node only
 * when the teardown is still pending: a live Runtime tears down on its own
 * within that time (its exit watcher), so the common case costs a `sleep`
 * and a `test`, not a Node start.
 *
 * From a build the script is `dist/cleanup/exit-command.js`; run from source
 * (through tsx, as the tests are), it is the `.ts` file, loaded with tsx.
 * @module
 */
import { fileURLToPath } from 'node:url';

/** How long the exit command leaves a live Runtime to tear down first (seconds). */
export const EXIT_TEARDOWN_DELAY_S = 1;

/** How long the exit teardown may take before `timeout` kills it (seconds). */
export const EXIT_TEARDOWN_TIMEOUT_S = 120;

/** `node [--import tsx] <exit-command script>`. */
function nodeScript(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSource ? './exit-command.ts' : './exit-command.js', import.meta.url));
  return [process.execPath, ...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), script];
}

/** The exit command for the pending teardown file `pendingPath` of one OCI create (`token`). */
export function exitTeardownCommand(pendingPath: string, token: string): string[] {
  // sh -c SCRIPT $0 $1...: no argument is ever parsed by the shell. From `/` (conmon's directory, the
  // bundle, goes with the container), and bounded: a teardown stuck for minutes is killed (its locks die with it).
  const script = `sleep ${EXIT_TEARDOWN_DELAY_S}; test -e "$0" || exit 0; cd / || exit 1; command -v timeout >/dev/null && exec timeout -k 5 ${EXIT_TEARDOWN_TIMEOUT_S} "$@"; exec "$@"`;
  return ['/bin/sh', '-c', script, pendingPath, ...nodeScript(), pendingPath, token];
}
