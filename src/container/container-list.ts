/**
 * `runtime.containers()`: the records matching a filter, synced, oldest
 * first. Built for thousands of containers: the records are the index's
 * shared frozen ones (no copies, no store reads), and only running or paused
 * containers are synced (one cheap exit check each, a lock only for those
 * that exited).
 * @module
 */
import { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { ContainerRecord } from '../define/records.js';
import { inState } from '../define/states.js';
import type { EngineContext } from '../engine/context.js';
import type { Frozen } from '../state/record-cache.js';
import { matchesFilter, type ContainerFilter } from './container-filter.js';
import { syncedRecord } from './sync.js';

type Listed = Frozen<ContainerRecord> | ContainerRecord;

/** Oldest first (ISO times compare as strings; no locale rules needed). */
function byCreation(a: Listed, b: Listed): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
}

/** The synced records passing `filter` (`podId`: the resolved `filter.pod`), oldest first. */
export function listContainers(ctx: EngineContext, filter: ContainerFilter, podId: string | undefined): ResultAsync<Listed[], LibpodError> {
  return ctx.index.containerViews().andThen((recs) => {
    const live = recs.filter((r) => inState(r.state.state, 'running', 'paused'));
    return ResultAsync.combine(live.map((r) => syncedRecord(ctx, r))).map((synced) => {
      const now = new Map<string, Listed | undefined>(live.map((r, i) => [r.id, synced[i]]));
      const out: Listed[] = [];
      for (const r of recs) {
        const cur = now.has(r.id) ? now.get(r.id) : r;
        if (cur !== undefined && matchesFilter(cur, filter, podId)) out.push(cur);
      }
      // The index lists in creation order almost always: check before sorting.
      if (out.some((r, i) => i > 0 && byCreation(out[i - 1]!, r) > 0)) out.sort(byCreation);
      return out;
    });
  });
}
