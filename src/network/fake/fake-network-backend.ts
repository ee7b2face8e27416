/**
 * A network backend in memory, for tests without root: configs are real
 * files (the same {@link NetworkConfigFiles} as netavark's), setups are
 * recorded per namespace path (a plain file stands for the namespace) and answered as netavark would (one interface
 * per network, with the requested address). Failures can be scripted.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../../define/errors.js';
import type { NetworkBackend, NetworkBackendDirs, SetupRequest, StatusBlock } from '../backend.js';
import { ConfigFileBackend } from '../config-file-backend.js';

/** The operations {@link FakeNetworkBackend.failNext} can make fail. */
export type FakeNetworkOp = 'setup' | 'teardown';

/** A network backend that wires nothing. */
export class FakeNetworkBackend extends ConfigFileBackend implements NetworkBackend {
  readonly name = 'fake';
  /** Live setups: netns path → network name → the request's options for it. */
  readonly attached = new Map<string, Map<string, SetupRequest>>();
  /** Every setup and teardown, in order (`setup <ctr> <net,...>`). */
  readonly calls: string[] = [];
  readonly #failures = new Map<FakeNetworkOp, string>();
  #mac = 0;

  open(dirs: NetworkBackendDirs): ResultAsync<void, LibpodError> {
    return this.openConfigFiles(dirs);
  }

  /** Makes the next `op` fail with `Internal` and `message`. */
  failNext(op: FakeNetworkOp, message = `fake ${op} failure`): void {
    this.#failures.set(op, message);
  }

  #failed(op: FakeNetworkOp): LibpodError | undefined {
    const m = this.#failures.get(op);
    if (m === undefined) return undefined;
    this.#failures.delete(op);
    return libpodError('Internal', m);
  }

  createNamespace(path: string): ResultAsync<void, LibpodError> {
    return attempt(async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // A namespace made anew has no interfaces, whatever was set up on one removed behind our back (an exit command).
      if (!existsSync(path)) this.attached.delete(path);
      await writeFile(path, '', { flag: 'a', mode: 0o600 });
    }, 'Internal', `creating ${path}`);
  }

  removeNamespace(path: string): ResultAsync<void, LibpodError> {
    return attempt(() => rm(path, { force: true }), 'Internal', `removing ${path}`);
  }

  setup(netnsPath: string, req: SetupRequest): ResultAsync<Record<string, StatusBlock>, LibpodError> {
    this.calls.push(`setup ${req.container_id} ${Object.keys(req.networks).sort().join(',')}`);
    const failed = this.#failed('setup');
    if (failed) return errAsync(failed);
    const live = this.attached.get(netnsPath) ?? new Map<string, SetupRequest>();
    const out: Record<string, StatusBlock> = {};
    for (const [name, opts] of Object.entries(req.networks)) {
      const info = req.network_info[name];
      if (!info) return errAsync(libpodError('Internal', `fake setup: no network_info for ${name}`));
      if (live.has(name)) return errAsync(libpodError('Internal', `fake setup: ${netnsPath} is already on ${name}`));
      const subnet = info.subnets[0];
      const prefix = subnet?.subnet.split('/')[1] ?? '24';
      this.#mac += 1;
      out[name] = {
        ...(info.dns_enabled ? { dns_server_ips: info.subnets.map((s) => s.gateway), dns_search_domains: ['dns.podman'] } : {}),
        interfaces: {
          [opts.interface_name]: {
            mac_address: `02:00:00:00:${(this.#mac >> 8).toString(16).padStart(2, '0')}:${(this.#mac & 255).toString(16).padStart(2, '0')}`,
            subnets: opts.static_ips.map((ip) => ({ ipnet: `${ip}/${prefix}`, gateway: subnet?.gateway })),
          },
        },
      };
    }
    for (const name of Object.keys(req.networks)) live.set(name, req);
    this.attached.set(netnsPath, live);
    return okAsync(out);
  }

  teardown(netnsPath: string, req: SetupRequest): ResultAsync<void, LibpodError> {
    this.calls.push(`teardown ${req.container_id} ${Object.keys(req.networks).sort().join(',')}`);
    const failed = this.#failed('teardown');
    if (failed) return errAsync(failed);
    const live = this.attached.get(netnsPath);
    for (const name of Object.keys(req.networks)) live?.delete(name);
    if (live && live.size === 0) this.attached.delete(netnsPath);
    return okAsync(undefined);
  }
}
