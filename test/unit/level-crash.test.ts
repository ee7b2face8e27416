/**
 * LevelStateStore across OS processes: a second process gets `Locked` naming
 * the holder, and a process killed with SIGKILL in the middle of container
 * churn leaves every container whole or absent.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isContainerState } from '../../src/define/states.js';
import { runCommand, spawnProcess } from '../../src/host/command.js';
import { LevelStateStore } from '../../src/state/level-state-store.js';
import { StateIndex } from '../../src/state/state-index.js';
import { expectOk } from '../../src/testing/conformance-helpers.js';
import { makeContainerRecord } from '../../src/testing/records.js';

const CHILD = fileURLToPath(new URL('../fixtures/level-state-child.ts', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', CHILD];

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'libpod-ts-level-proc-'));
  try {
    await fn(join(base, 'state'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function openInChild(dir: string): Promise<{ ok: boolean; code?: string; message?: string; containers?: number }> {
  const out = await expectOk(runCommand(process.execPath, [...NODE_ARGS, 'open', dir], { timeoutMs: 10_000 }));
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

/** Runs the churn child until it printed progress, kills it after `delayMs` more, and returns what it printed. */
function churnThenKill(dir: string, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(process.execPath, [...NODE_ARGS, 'churn', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let killing = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 8_000);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (!killing && line.startsWith('progress ')) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL' && killing) resolve(lines);
      else reject(new Error(`churn child ended with ${code ?? signal} before being killed: ${stderr}`));
    });
  });
}

/** The ids the child confirmed as added and had not begun to remove. */
function confirmedIds(lines: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const line of lines) {
    const [verb, ...rest] = line.split(' ');
    if (verb === 'add') ids.add(rest[0] ?? '');
    if (verb === 'rm') for (const id of rest) ids.delete(id);
  }
  return ids;
}

async function assertWholeOrAbsent(dir: string, lines: readonly string[]): Promise<number> {
  const store = new LevelStateStore(dir);
  await expectOk(store.open());
  try {
    const index = new StateIndex(store);
    const ctrs = await expectOk(index.allContainers());
    const ids = new Set(ctrs.map((c) => c.id));
    const pods = new Set((await expectOk(index.allPods())).map((p) => p.id));
    const vols = new Set((await expectOk(index.allVolumes())).map((v) => v.name));
    for (const c of ctrs) {
      assert.ok(Array.isArray(c.config.command) && c.config.command.length > 0, `config of ${c.id}`);
      assert.equal(c.config.name, c.name);
      assert.equal(Object.keys(c.config.env).length, 30);
      assert.ok(isContainerState(c.state.state), `state of ${c.id}`);
      assert.equal(typeof c.state.execSessions, 'object');
      for (const dep of c.dependencyIds) assert.ok(ids.has(dep), `dependency ${dep} of ${c.id} exists`);
      if (c.podId) assert.ok(pods.has(c.podId), `pod of ${c.id} exists`);
      for (const v of c.config.volumes) assert.ok(vols.has(v.name), `volume ${v.name} exists`);
    }
    for (const id of confirmedIds(lines)) assert.ok(ids.has(id), `acknowledged container ${id} survived`);
    return ctrs.length;
  } finally {
    await expectOk(store.close());
  }
}

describe('LevelStateStore across processes', () => {
  it('gives a second process Locked naming the holder pid, and leaves the data intact', async () => {
    await withTmp(async (dir) => {
      const store = new LevelStateStore(dir);
      await expectOk(store.open());
      const rec = makeContainerRecord();
      await expectOk(new StateIndex(store).addContainer(rec));
      try {
        const res = await openInChild(dir);
        assert.equal(res.ok, false);
        assert.equal(res.code, 'Locked');
        assert.ok(res.message?.includes(String(process.pid)), res.message);
        assert.deepEqual(await expectOk(new StateIndex(store).getContainer(rec.id)), rec);
      } finally {
        await expectOk(store.close());
      }
      assert.deepEqual(await openInChild(dir), { ok: true, containers: 1 });
    });
  });

  it('leaves every container whole or absent when killed with SIGKILL mid-churn', async () => {
    await withTmp(async (dir) => {
      let seen = 0;
      for (let round = 0; round < 4; round++) {
        const lines = await churnThenKill(dir, Math.floor(Math.random() * 400));
        seen += await assertWholeOrAbsent(dir, lines);
      }
      assert.ok(seen > 0, 'the child made containers before it was killed');
    });
  });
});
