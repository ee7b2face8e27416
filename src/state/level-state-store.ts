/**
 * The default, persistent {@link StateStore}: LevelDB through `level` (the
 * only file that imports it).
 *
 * On-disk layout, under the store directory (created with mode 0700):
 *
 * ```
 * <dir>/                 LevelDB files (CURRENT, LOCK, LOG, MANIFEST-*, *.log, *.ldb)
 * <dir>/owner.pid        decimal pid of the process holding the store open
 *                        (written after open, removed on close; stale after a crash)
 * ```
 *
 * Keys and values (utf8 strings; one flat keyspace, kinds separated by prefix):
 *
 * | key                    | value                                   |
 * | ---------------------- | --------------------------------------- |
 * | `container!<id>`       | JSON of a `ContainerRecord`             |
 * | `pod!<id>`             | JSON of a `PodRecord`                   |
 * | `volume!<name>`        | JSON of a `VolumeRecord`                |
 * | `meta!version`         | layout version, currently `"1"`         |
 *
 * A kind is listed with the range `[kind + '!', kind + '"')` (`"` follows `!`).
 * `write()` is one LevelDB batch, so it is atomic across a crash; writes are
 * not fsynced: LevelDB appends the batch to its log with write(2) before the
 * call completes, which survives kill -9 (not a power loss).
 *
 * Exclusivity is LevelDB's own LOCK file (an fcntl lock the kernel drops when
 * the holder dies); owner.pid only serves to name the holder in `Locked`.
 * @module
 */
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, LibpodError, toLibpodError } from '../define/errors.js';
import type { RecordKind, RecordMap } from '../define/records.js';
import type { StateStore, StateStoreCapabilities, StateWriteOp } from './state-store.js';
import { checkKindAndKey, checkOps, closedError } from './store-checks.js';

/** The layout version this code reads and writes. */
const LAYOUT_VERSION = '1';
const VERSION_KEY = 'meta!version';
const OWNER_FILE = 'owner.pid';

type Db = Level<string, string>;
type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

function keyOf(kind: RecordKind, key: string): string {
  return `${kind}!${key}`;
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isLockedError(e: unknown): boolean {
  return errorCode(e) === 'LEVEL_LOCKED' || errorCode((e as { cause?: unknown } | null)?.cause) === 'LEVEL_LOCKED';
}

/**
 * A {@link StateStore} kept in a LevelDB directory. Exclusive: a second
 * process opening the same directory gets `Locked`.
 *
 * @example
 * ```ts
 * const store = new LevelStateStore('/var/lib/libpod-ts/state');
 * const opened = await store.open();
 * if (opened.isErr() && opened.error.code === 'Locked') console.error(opened.error.message);
 * ```
 */
export class LevelStateStore implements StateStore {
  /** Always `'level'`. */
  readonly name = 'level';
  /** Persistent across close and kill -9; exclusive to one process. */
  readonly capabilities: StateStoreCapabilities = { persistent: true, exclusive: true };
  /** The store directory. */
  readonly dir: string;

  #db: Db | undefined;
  /** open/close run one at a time, in call order. */
  #lifecycle: Promise<unknown> = Promise.resolve();

  /** @param dir the store directory; created (mode 0700) on `open()` when missing. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens the store; `Locked` when another process holds it. Opening an open store is a no-op. */
  open(): ResultAsync<void, LibpodError> {
    return this.#serial(async () => {
      if (this.#db) return;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const db: Db = new Level<string, string>(this.dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      try {
        await db.open();
      } catch (e) {
        throw await this.#openError(e);
      }
      try {
        await this.#checkVersion(db);
        await writeFile(join(this.dir, OWNER_FILE), `${process.pid}\n`, { mode: 0o600 });
      } catch (e) {
        await db.close().catch(() => undefined);
        throw e;
      }
      this.#db = db;
    }, 'cannot open');
  }

  /** Closes the store; idempotent. Later operations fail with `DBClosed`. */
  close(): ResultAsync<void, LibpodError> {
    return this.#serial(async () => {
      const db = this.#db;
      if (!db) return;
      this.#db = undefined;
      // Remove owner.pid while still holding the LOCK, so it never names a
      // process that no longer holds the store.
      await unlink(join(this.dir, OWNER_FILE)).catch(() => undefined);
      try {
        await db.close();
      } catch (e) {
        // Keep the handle, so a retried close() can still release the LOCK.
        this.#db = db;
        throw e;
      }
    }, 'cannot close');
  }

  /** One record (parsed from its JSON), or `undefined`. */
  get<K extends RecordKind>(kind: K, key: string): ResultAsync<RecordMap[K] | undefined, LibpodError> {
    const db = this.#db;
    if (!db) return errAsync(closedError(this.name));
    const checked = checkKindAndKey(kind, key);
    if (checked.isErr()) return errAsync(checked.error);
    const full = keyOf(kind, key);
    return this.#call(async () => {
      const raw = await db.get(full);
      return raw === undefined ? undefined : this.#parse<RecordMap[K]>(full, raw);
    });
  }

  /** Every record of `kind`, in key order. */
  list<K extends RecordKind>(kind: K): ResultAsync<RecordMap[K][], LibpodError> {
    const db = this.#db;
    if (!db) return errAsync(closedError(this.name));
    const checked = checkKindAndKey(kind, kind);
    if (checked.isErr()) return errAsync(checked.error);
    return this.#call(async () => {
      const entries = await db.iterator({ gte: `${kind}!`, lt: `${kind}"` }).all();
      return entries.map(([k, v]) => this.#parse<RecordMap[K]>(k, v));
    });
  }

  /** Applies every op in one LevelDB batch: all or nothing, even across kill -9. */
  write(ops: readonly StateWriteOp[]): ResultAsync<void, LibpodError> {
    const db = this.#db;
    if (!db) return errAsync(closedError(this.name));
    const checked = checkOps(ops);
    if (checked.isErr()) return errAsync(checked.error);
    let batch: BatchOp[];
    try {
      batch = ops.map((op) =>
        op.op === 'put'
          ? { type: 'put', key: keyOf(op.kind, op.key), value: JSON.stringify(op.value) }
          : { type: 'del', key: keyOf(op.kind, op.key) },
      );
    } catch (e) {
      return errAsync(libpodError('InvalidArg', `state record is not JSON-serialisable: ${String(e)}`, e));
    }
    if (batch.length === 0) return this.#call(async () => undefined);
    return this.#call(() => db.batch(batch));
  }

  #serial(fn: () => Promise<void>, context: string): ResultAsync<void, LibpodError> {
    const run = this.#lifecycle.then(fn);
    this.#lifecycle = run.catch(() => undefined);
    return ResultAsync.fromPromise(run, (e) => toLibpodError(e, 'Internal', `${context} state store ${this.dir}`));
  }

  /** Runs a LevelDB call; a database closed under it becomes `DBClosed`. */
  #call<T>(fn: () => Promise<T>): ResultAsync<T, LibpodError> {
    return ResultAsync.fromPromise(fn(), (e) => {
      if (e instanceof LibpodError) return e;
      if (errorCode(e) === 'LEVEL_DATABASE_NOT_OPEN') return libpodError('DBClosed', closedError(this.name).message, e);
      return toLibpodError(e, 'Internal', `state store ${this.dir}`);
    });
  }

  #parse<T>(key: string, raw: string): T {
    try {
      return JSON.parse(raw) as T;
    } catch (e) {
      throw libpodError('Internal', `corrupt record ${key} in state store ${this.dir}: ${String(e)}`, e);
    }
  }

  async #openError(e: unknown): Promise<LibpodError> {
    if (!isLockedError(e)) return toLibpodError(e, 'Internal', `cannot open state store ${this.dir}`);
    const pid = await readFile(join(this.dir, OWNER_FILE), 'utf8').then(
      (s) => (/^\d+$/.test(s.trim()) ? s.trim() : undefined),
      () => undefined,
    );
    const holder = pid === undefined ? 'another process' : `process ${pid}`;
    return libpodError('Locked', `state store ${this.dir} is in use by ${holder}`, e);
  }

  async #checkVersion(db: Db): Promise<void> {
    const version = await db.get(VERSION_KEY);
    if (version === undefined) {
      await db.put(VERSION_KEY, LAYOUT_VERSION);
    } else if (version !== LAYOUT_VERSION) {
      throw libpodError('Internal', `state store ${this.dir} has layout version ${version}; this libpod-ts reads version ${LAYOUT_VERSION}`);
    }
  }
}
