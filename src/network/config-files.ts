/**
 * Network configs as JSON files, one per network, as podman keeps them:
 *
 * ```
 * <root>/networks/<name>.json     podman's format (see NetworkConfig)
 * ```
 *
 * Writes go to a temporary file renamed into place, so a crash leaves either
 * the old file or the new one; unreadable files are skipped when listing.
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import { isNetworkConfig, type NetworkConfig } from './network-config.js';

function noSuch(name: string): LibpodError {
  return libpodError('NoSuchNetwork', `unable to find network with name or ID ${name}: network not found`);
}

/** The config files of one directory. */
export class NetworkConfigFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(name: string): string {
    return join(this.#dir, `${name}.json`);
  }

  /** Creates the directory. */
  open(): ResultAsync<void, LibpodError> {
    return attempt(() => mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => undefined), 'Internal', `creating ${this.#dir}`);
  }

  #read(file: string): ResultAsync<NetworkConfig | undefined, LibpodError> {
    return attempt(async () => {
      try {
        const parsed: unknown = JSON.parse(await readFile(join(this.#dir, file), 'utf8'));
        return isNetworkConfig(parsed) && `${parsed.name}.json` === file ? parsed : undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
        throw e;
      }
    }, 'Internal', `reading network config ${file}`);
  }

  /** Writes a new config; `NetworkExists` when the name is taken. */
  create(config: NetworkConfig): ResultAsync<void, LibpodError> {
    return this.#read(`${config.name}.json`).andThen((existing) => {
      if (existing) return errAsync(libpodError('NetworkExists', `network name ${config.name} already used: network already exists`));
      const tmp = join(this.#dir, `.${config.name}.json.tmp`);
      return attempt(async () => {
        await writeFile(tmp, `${JSON.stringify(config, null, 5)}\n`, { mode: 0o644 });
        await rename(tmp, this.#path(config.name));
      }, 'Internal', `writing network config ${config.name}`);
    });
  }

  /** Deletes a config; `NoSuchNetwork` when absent. */
  remove(name: string): ResultAsync<void, LibpodError> {
    return this.#read(`${name}.json`).andThen((existing) =>
      existing ? attempt(() => rm(this.#path(name), { force: true }), 'Internal', `removing network config ${name}`) : errAsync(noSuch(name)),
    );
  }

  /** Every valid config, by name. */
  list(): ResultAsync<NetworkConfig[], LibpodError> {
    return attempt(() => readdir(this.#dir), 'Internal', `listing ${this.#dir}`).andThen((files) => {
      const reads = files.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort().map((f) => this.#read(f));
      return reads.reduce<ResultAsync<NetworkConfig[], LibpodError>>(
        (acc, r) => acc.andThen((out) => r.map((c) => (c ? [...out, c] : out))),
        okAsync([]),
      );
    });
  }

  /** One config by name; `NoSuchNetwork` when absent. */
  inspect(name: string): ResultAsync<NetworkConfig, LibpodError> {
    return this.#read(`${name}.json`).andThen((c) => (c ? okAsync(c) : errAsync(noSuch(name))));
  }
}
