/**
 * Filters of `runtime.containers()` (and the label matching pods and
 * volumes share).
 * @module
 */
import { libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerRecord } from '../define/records.js';
import type { Frozen } from '../state/record-cache.js';
import { isContainerState, type ContainerState } from '../define/states.js';
import { anyOf, checkOptions, labelFilter, nonEmptyStr, regExp, str, unchecked } from '../util/validate.js';

/** Filter of `runtime.containers()`; every given field must match. */
export interface ContainerFilter {
  /** `'key'`, `'key=value'`, or `{ key: value }` (all must match). */
  label?: string | Record<string, string>;
  /** One state or any of several. */
  state?: ContainerState | ContainerState[];
  /** Exact name, or a RegExp tested against the name. */
  name?: string | RegExp;
  /** Pod id or name. */
  pod?: string;
}

/** Whether `labels` satisfy a label filter. */
export function labelsMatch(labels: Record<string, string>, filter: string | Record<string, string> | undefined): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'string') {
    const eq = filter.indexOf('=');
    return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
  }
  return Object.entries(filter).every(([k, v]) => labels[k] === v);
}


/** `InvalidArg` for an unknown key or state; `undefined` when the filter is fine. */
export function checkFilter(filter: ContainerFilter): LibpodError | undefined {
  if (typeof filter !== 'object' || filter === null) return libpodError('InvalidArg', 'filter must be an object');
  for (const k of Object.keys(filter)) if (!['label', 'state', 'name', 'pod'].includes(k)) return libpodError('InvalidArg', `unknown container filter "${k}"`);
  const states = filter.state === undefined ? [] : Array.isArray(filter.state) ? filter.state : [filter.state];
  for (const s of states) if (!isContainerState(s)) return libpodError('InvalidArg', `unknown container state "${String(s)}"`);
  return checkOptions(filter, 'container filter', { label: labelFilter, state: unchecked, name: anyOf(str, regExp), pod: nonEmptyStr });
}

/** Whether a (synced) record passes the filter; `podId` is the resolved `filter.pod`. */
export function matchesFilter(r: Frozen<ContainerRecord>, f: ContainerFilter, podId: string | undefined): boolean {
  if (!labelsMatch(r.config.labels, f.label)) return false;
  if (f.state !== undefined && !(Array.isArray(f.state) ? f.state : [f.state]).includes(r.state.state)) return false;
  if (f.name !== undefined && !(typeof f.name === 'string' ? r.name === f.name : f.name.test(r.name))) return false;
  if (podId !== undefined && r.podId !== podId) return false;
  return true;
}
