import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStateStore } from '../../src/state/level-state-store.js';
import { MemoryStateStore } from '../../src/state/memory-state-store.js';
import { runStateStoreConformance } from '../../src/testing/state-store-conformance.js';

runStateStoreConformance('memory', async () => ({ store: new MemoryStateStore(), cleanup: async () => {} }));

runStateStoreConformance('level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'libpod-ts-level-'));
  const location = join(dir, 'state');
  return { store: new LevelStateStore(location), reopen: () => new LevelStateStore(location), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
