/**
 * What `image.inspect()` and `image.history()` report, built from the
 * stored record, config and layers (podman's `image inspect` / `history`,
 * camelCase).
 * @module
 */
import type { ImageConfig } from './formats/config.js';
import type { ImageRecord, LayerRecord } from './store/records.js';
import { parseNormalizedReference, repositoryName } from './reference.js';

/** The runtime defaults an image carries. */
export interface ImageInspectConfig {
  /** `KEY=value` entries. */
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  user: string;
  /** `'80/tcp'`, ... */
  exposedPorts: string[];
  /** Paths that become anonymous volumes. */
  volumes: string[];
  labels: Record<string, string>;
  stopSignal: string;
  /** The health check, as the image declares it (durations in nanoseconds). */
  healthcheck?: { test: string[]; interval?: number; timeout?: number; startPeriod?: number; retries?: number };
}

/** `image.inspect()`. */
export interface ImageInspect {
  /** 64 hex: the config digest's hex. */
  id: string;
  /** `sha256:` of the manifest the image was pulled or loaded by. */
  digest: string;
  /** Its names (`docker.io/library/busybox:latest`). */
  repoTags: string[];
  /** `repository@digest` for each of its repositories and manifest digests. */
  repoDigests: string[];
  /** When the image was built (the config's `created`; the store time when absent). */
  created: Date;
  /** Bytes of its layers, uncompressed. */
  size: number;
  architecture: string;
  os: string;
  variant?: string;
  author?: string;
  config: ImageInspectConfig;
  rootFS: { type: 'layers'; diffIDs: string[] };
  history: ImageHistoryEntry[];
}

/** One step of `image.history()`, newest first. */
export interface ImageHistoryEntry {
  /** The image id for the top step, `'<missing>'` for the others (as podman shows). */
  id: string;
  created?: Date;
  createdBy: string;
  /** Bytes the step's layer adds (0 for steps without a layer). */
  size: number;
  comment: string;
  /** The step made no layer. */
  emptyLayer: boolean;
  /** The image's names, on the top step. */
  tags: string[];
}

function keys(v: Record<string, unknown> | undefined): string[] {
  return Object.keys(v ?? {});
}

/** The `repository@digest` names of an image. */
export function repoDigests(rec: ImageRecord): string[] {
  const repos = new Set<string>();
  for (const n of rec.names) {
    const r = parseNormalizedReference(n);
    if (r.isOk()) repos.add(repositoryName(r.value));
  }
  return [...repos].flatMap((repo) => rec.digests.map((d) => `${repo}@${d}`));
}

function toDate(s: string | undefined, fallback: string): Date {
  const d = new Date(s ?? fallback);
  return Number.isNaN(d.getTime()) ? new Date(fallback) : d;
}

/** The history, newest first, with each layer's size. */
export function imageHistory(rec: ImageRecord, config: ImageConfig, layers: readonly LayerRecord[]): ImageHistoryEntry[] {
  const out: ImageHistoryEntry[] = [];
  let layer = 0;
  for (const h of config.history ?? []) {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (layers[layer]?.diffSize ?? 0);
    if (!empty) layer += 1;
    const e: ImageHistoryEntry = { id: '<missing>', createdBy: h.created_by ?? '', size, comment: h.comment ?? '', emptyLayer: empty, tags: [] };
    if (h.created !== undefined) e.created = toDate(h.created, rec.createdAt);
    out.push(e);
  }
  out.reverse();
  if (out[0]) {
    out[0].id = rec.id;
    out[0].tags = [...rec.names];
  }
  return out;
}

/** The inspect view of an image. */
export function inspectImage(rec: ImageRecord, config: ImageConfig, layers: readonly LayerRecord[]): ImageInspect {
  const c = config.config ?? {};
  const hc = c.Healthcheck;
  const out: ImageInspect = {
    id: rec.id,
    digest: rec.digest,
    repoTags: [...rec.names],
    repoDigests: repoDigests(rec),
    created: toDate(config.created, rec.createdAt),
    size: layers.reduce((n, l) => n + l.diffSize, 0),
    architecture: config.architecture,
    os: config.os,
    config: {
      env: [...(c.Env ?? [])],
      entrypoint: [...(c.Entrypoint ?? [])],
      cmd: [...(c.Cmd ?? [])],
      workingDir: c.WorkingDir ?? '',
      user: c.User ?? '',
      exposedPorts: keys(c.ExposedPorts),
      volumes: keys(c.Volumes),
      labels: { ...(c.Labels ?? {}) },
      stopSignal: c.StopSignal ?? '',
      ...(hc?.Test
        ? {
            healthcheck: {
              test: [...hc.Test],
              ...(hc.Interval === undefined ? {} : { interval: hc.Interval }),
              ...(hc.Timeout === undefined ? {} : { timeout: hc.Timeout }),
              ...(hc.StartPeriod === undefined ? {} : { startPeriod: hc.StartPeriod }),
              ...(hc.Retries === undefined ? {} : { retries: hc.Retries }),
            },
          }
        : {}),
    },
    rootFS: { type: 'layers', diffIDs: [...config.rootfs.diff_ids] },
    history: imageHistory(rec, config, layers),
  };
  if (config.variant !== undefined) out.variant = config.variant;
  if (config.author !== undefined) out.author = config.author;
  return out;
}
