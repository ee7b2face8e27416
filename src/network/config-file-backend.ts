/**
 * The part every network backend shares: network definitions kept as
 * podman's JSON config files ({@link NetworkConfigFiles}). Backends extend it
 * and add what they wire (netavark, or nothing for the fake).
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import type { NetworkBackendDirs } from './backend.js';
import { NetworkConfigFiles } from './config-files.js';
import type { NetworkConfig } from './network-config.js';

/** create / remove / list / inspect over the config files of `dirs.configDir`. */
export abstract class ConfigFileBackend {
  #files: NetworkConfigFiles | undefined;

  /** Opens the config files; backends call it from their `open`. */
  protected openConfigFiles(dirs: NetworkBackendDirs): ResultAsync<void, LibpodError> {
    this.#files = new NetworkConfigFiles(dirs.configDir);
    return this.#files.open();
  }

  get #store(): NetworkConfigFiles {
    if (!this.#files) throw libpodError('Internal', 'network backend used before open()');
    return this.#files;
  }

  create(config: NetworkConfig): ResultAsync<void, LibpodError> {
    return this.#store.create(config);
  }

  remove(name: string): ResultAsync<void, LibpodError> {
    return this.#store.remove(name);
  }

  list(): ResultAsync<NetworkConfig[], LibpodError> {
    return this.#store.list();
  }

  inspect(name: string): ResultAsync<NetworkConfig, LibpodError> {
    return this.#store.inspect(name);
  }
}
