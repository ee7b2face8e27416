/**
 * The netavark backend (podman 4's): configs as podman's JSON files, and
 * `netavark --config <runDir> --rootless=false --aardvark-binary <path>
 * setup|teardown <netns>` with the request on stdin. netavark answers a
 * status block per network on stdout, or `{"error": ...}` with exit status 1.
 *
 * ```
 * <runDir>/aardvark-dns/      aardvark-dns's config and pid file (netavark's)
 * ```
 * @module
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../define/errors.js';
import { runCommand } from '../../host/command.js';
import type { DetachedTeardown, NetworkBackend, NetworkBackendDirs, SetupRequest, StatusBlock } from '../backend.js';
import { ConfigFileBackend } from '../config-file-backend.js';
import { createNetns, removeNetns } from '../netns.js';
import { NETAVARK_LOCK, withRunDirLock } from '../run-locks.js';

/** Where podman's packages install the binaries. */
const LIBEXEC_DIRS = ['/usr/libexec/podman', '/usr/lib/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman'];
const IPTABLES_PATHS = ['/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables'];

/** What bridge networking needs on the host, in Debian package names. */
export const NETWORK_PACKAGES = 'netavark aardvark-dns iptables';

/** Options of {@link NetavarkNetworkBackend}. */
export interface NetavarkOptions {
  /** Path of netavark (default: searched in podman's libexec directories). */
  netavark?: string;
  /** Path of aardvark-dns (default: searched in podman's libexec directories). */
  aardvark?: string;
  /** Path of iptables, put first on netavark's PATH (default: searched in /usr/sbin, /sbin, /usr/bin). */
  iptables?: string;
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** netavark's error text from its stdout (`{"error": ...}`), else stderr. */
function failure(out: { stdout: string; stderr: string; code: number }): string {
  try {
    const parsed = JSON.parse(out.stdout) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return (out.stderr || out.stdout).trim() || `exit status ${out.code}`;
}

/** Bridge networks through netavark and aardvark-dns. */
export class NetavarkNetworkBackend extends ConfigFileBackend implements NetworkBackend {
  readonly name = 'netavark';
  readonly #opts: NetavarkOptions;
  #runDir = '';
  #binaries: { netavark: string; aardvark: string; iptables: string } | undefined;

  constructor(opts: NetavarkOptions = {}) {
    super();
    this.#opts = opts;
  }

  open(dirs: NetworkBackendDirs): ResultAsync<void, LibpodError> {
    this.#runDir = dirs.runDir;
    return this.openConfigFiles(dirs);
  }

  createNamespace(path: string): ResultAsync<void, LibpodError> {
    // Checked first: without netavark a namespace would be made for nothing.
    return this.#find().andThen(() => createNetns(path));
  }

  removeNamespace(path: string): ResultAsync<void, LibpodError> {
    return removeNetns(path);
  }

  /** netavark, aardvark-dns and iptables, or `OCIRuntimeNotFound` naming the packages. */
  #find(): ResultAsync<{ netavark: string; aardvark: string; iptables: string }, LibpodError> {
    if (this.#binaries) return okAsync(this.#binaries);
    return attempt(async () => {
      // A path given in the options must be executable too: it is checked, not trusted.
      const netavark = await firstExecutable(this.#opts.netavark !== undefined ? [this.#opts.netavark] : LIBEXEC_DIRS.map((d) => `${d}/netavark`));
      const aardvark = await firstExecutable(this.#opts.aardvark !== undefined ? [this.#opts.aardvark] : LIBEXEC_DIRS.map((d) => `${d}/aardvark-dns`));
      const iptables = await firstExecutable(this.#opts.iptables !== undefined ? [this.#opts.iptables] : IPTABLES_PATHS);
      const missing = [!netavark && 'netavark', !aardvark && 'aardvark-dns', !iptables && 'iptables'].filter(Boolean);
      if (!netavark || !aardvark || !iptables) {
        throw libpodError(
          'OCIRuntimeNotFound',
          `bridge networking needs ${missing.join(', ')} (not found): install the Debian packages ${NETWORK_PACKAGES} (scripts/setup-host.sh does); networks 'none' and 'host' work without them`,
        );
      }
      this.#binaries = { netavark, aardvark, iptables };
      return this.#binaries;
    }, 'Internal', 'looking for netavark');
  }

  /** netavark's command line for `verb`. */
  #command(verb: 'setup' | 'teardown', netnsPath: string, req: SetupRequest): ResultAsync<DetachedTeardown, LibpodError> {
    return this.#find().map((bin) => ({
      argv: [bin.netavark, '--config', this.#runDir, '--rootless=false', '--aardvark-binary', bin.aardvark, verb, netnsPath],
      input: JSON.stringify(req),
      // netavark runs iptables from PATH: the one found comes first.
      env: { PATH: `${dirname(bin.iptables)}:${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` },
    }));
  }

  /** Runs netavark under the run directory's `netavark` lock (conmon's exit command may run it too). */
  #run(verb: 'setup' | 'teardown', netnsPath: string, req: SetupRequest): ResultAsync<string, LibpodError> {
    return this.#command(verb, netnsPath, req).andThen(({ argv: [program, ...args], input, env }) =>
      withRunDirLock(this.#runDir, NETAVARK_LOCK, () =>
        runCommand(program!, args, { input, env: { ...process.env, ...env }, notFoundCode: 'OCIRuntimeNotFound' }),
      ).andThen((out) =>
        out.code === 0
          ? okAsync(out.stdout)
          : errAsync(libpodError('Internal', `netavark ${verb} of container ${req.container_id.slice(0, 12)}: ${failure(out)}`)),
      ),
    );
  }

  detachedTeardown(netnsPath: string, req: SetupRequest): ResultAsync<DetachedTeardown, LibpodError> {
    return this.#command('teardown', netnsPath, req);
  }

  setup(netnsPath: string, req: SetupRequest): ResultAsync<Record<string, StatusBlock>, LibpodError> {
    return this.#run('setup', netnsPath, req).andThen((stdout) =>
      attempt(() => JSON.parse(stdout) as Record<string, StatusBlock>, 'Internal', 'parsing netavark setup output'),
    );
  }

  teardown(netnsPath: string, req: SetupRequest): ResultAsync<void, LibpodError> {
    return this.#run('teardown', netnsPath, req).map(() => undefined);
  }
}
