/**
 * The image config blob (OCI image-spec `config` / Docker's image JSON),
 * parsed from untrusted bytes. Its sha256 is the image id, so the bytes are
 * kept as they came; the parsed form is for reading only, and a new config
 * (commit) is serialized from {@link ImageConfig} with unknown fields kept.
 * @module
 */
import { err, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { isDigest, type Digest } from './digest.js';
import { arr, checkJson, fail, isObject, obj, optKeySet, optStr, optStringMap, optStrings, parseJson, str, type JsonObject } from './json-check.js';

/** Largest config accepted (c/image's MaxConfigBodySize). */
export const MAX_CONFIG_SIZE = 4 * 1024 * 1024;

/** Healthcheck of an image (Docker's `Healthcheck`; durations in nanoseconds). */
export interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime defaults of an image (`config` inside the config blob). */
export interface ContainerImageConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: ImageHealthcheck;
  ArgsEscaped?: boolean;
  OnBuild?: string[];
  Shell?: string[];
  /** Fields we do not model, kept as they were. */
  [other: string]: unknown;
}

/** One history entry. */
export interface ImageHistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** A parsed image config. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerImageConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: ImageHistoryEntry[];
  /** Fields we do not model (Docker's container_config, os.version, ...), kept as they were. */
  [other: string]: unknown;
}

function nanos(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${path} must be a non-negative number`);
  return v;
}

function checkHealthcheck(v: unknown, path: string): ImageHealthcheck {
  const o = obj(v, path);
  const h: ImageHealthcheck = {};
  const test = optStrings(o.Test, `${path}.Test`);
  if (test !== undefined) h.Test = test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const n = nanos(o[k], `${path}.${k}`);
    if (n !== undefined) h[k] = n;
  }
  return h;
}

function checkContainerConfig(v: unknown, path: string): ContainerImageConfig {
  const o = obj(v, path);
  const c: ContainerImageConfig = { ...o };
  const set = <K extends keyof ContainerImageConfig>(k: K, val: ContainerImageConfig[K] | undefined): void => {
    if (val === undefined) delete c[k];
    else c[k] = val;
  };
  set('User', optStr(o.User, `${path}.User`));
  set('ExposedPorts', optKeySet(o.ExposedPorts, `${path}.ExposedPorts`));
  set('Env', optStrings(o.Env, `${path}.Env`));
  set('Entrypoint', optStrings(o.Entrypoint, `${path}.Entrypoint`));
  set('Cmd', optStrings(o.Cmd, `${path}.Cmd`));
  set('Volumes', optKeySet(o.Volumes, `${path}.Volumes`));
  set('WorkingDir', optStr(o.WorkingDir, `${path}.WorkingDir`));
  set('Labels', optStringMap(o.Labels, `${path}.Labels`));
  set('StopSignal', optStr(o.StopSignal, `${path}.StopSignal`));
  set('Healthcheck', o.Healthcheck === undefined || o.Healthcheck === null ? undefined : checkHealthcheck(o.Healthcheck, `${path}.Healthcheck`));
  set('OnBuild', optStrings(o.OnBuild, `${path}.OnBuild`));
  set('Shell', optStrings(o.Shell, `${path}.Shell`));
  return c;
}

function checkHistory(v: unknown, path: string): ImageHistoryEntry {
  const o = obj(v, path);
  const h: ImageHistoryEntry = {};
  for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
    const s = optStr(o[k], `${path}.${k}`);
    if (s !== undefined) h[k] = s;
  }
  if (o.empty_layer !== undefined && o.empty_layer !== null) {
    if (typeof o.empty_layer !== 'boolean') fail(`${path}.empty_layer must be a boolean`);
    h.empty_layer = o.empty_layer;
  }
  return h;
}

function checkConfig(o: JsonObject): ImageConfig {
  const rootfs = obj(o.rootfs, 'rootfs');
  if (rootfs.type !== 'layers') fail(`rootfs.type ${JSON.stringify(rootfs.type)}, expected "layers"`);
  const diffIds = arr(rootfs.diff_ids ?? [], 'rootfs.diff_ids').map((d, i) => {
    const s = str(d, `rootfs.diff_ids[${i}]`);
    if (!isDigest(s)) fail(`rootfs.diff_ids[${i}] ${JSON.stringify(s)} is not a sha256 digest`);
    return s;
  });
  const c: ImageConfig = {
    ...o,
    architecture: str(o.architecture ?? '', 'architecture'),
    os: str(o.os ?? '', 'os'),
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  for (const k of ['created', 'author', 'variant'] as const) {
    const s = optStr(o[k], k);
    if (s === undefined || s === '') delete c[k];
    else c[k] = s;
  }
  if (o.config === undefined || o.config === null) delete c.config;
  else c.config = checkContainerConfig(o.config, 'config');
  if (o.history === undefined || o.history === null) delete c.history;
  else c.history = arr(o.history, 'history').map((h, i) => checkHistory(h, `history[${i}]`));
  return c;
}

/** Parses an image config blob; malformed → `ImageCorrupt`. */
export function parseImageConfig(bytes: Buffer): Result<ImageConfig, LibpodError> {
  if (bytes.length > MAX_CONFIG_SIZE) return err(libpodError('ImageCorrupt', `image config larger than ${MAX_CONFIG_SIZE} bytes`));
  return parseJson(bytes, 'image config').andThen((v) =>
    isObject(v) ? checkJson('image config', () => checkConfig(v)) : err(libpodError('ImageCorrupt', 'image config: not a JSON object')),
  );
}

/** The number of history entries that made a layer (not `empty_layer`). */
export function layerHistoryCount(c: ImageConfig): number {
  return (c.history ?? []).filter((h) => h.empty_layer !== true).length;
}
