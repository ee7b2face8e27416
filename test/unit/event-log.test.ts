/**
 * The event log is bounded (rotates as podman's `rotateLog`: the newer half
 * kept between `log-rotation` markers) and `readEvents({ since })` reads the
 * end of the file, not all of it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LibpodEvent } from '../../src/index.js';
import { EventLog, ROTATE_ATTRIBUTE } from '../../src/events/event-log.js';
import { fakeEngine, must, mustFail } from '../support/engine.js';
import { Runtime } from '../../src/index.js';

function ev(i: number, time: Date, pad = 0): LibpodEvent {
  return { type: 'container', status: 'start', id: `id-${i}`, name: `n-${i}${'x'.repeat(pad)}`, time, attributes: { i: String(i) } };
}

describe('event log: size limit and reads from the end', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpts-events-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rotates at its limit, keeping the newer half between log-rotation markers', async () => {
    const log = new EventLog(dir, 20_000);
    const base = Date.now();
    for (let i = 0; i < 1000; i++) log.append([ev(i, new Date(base + i))]);
    assert.ok((await stat(log.path)).size < 20_000, 'never past the limit');
    const lines = (await readFile(log.path, 'utf8')).split('\n').filter((l) => l !== '');
    for (const l of lines) JSON.parse(l); // whole lines only
    const all = await must(log.read());
    assert.equal(all.length, lines.length);
    const ids = all.filter((e) => e.type === 'container').map((e) => Number(e.attributes.i));
    assert.equal(ids.at(-1), 999, 'the newest event is kept');
    assert.ok(ids[0]! > 500, 'the oldest ones are gone');
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order, no gap inside a kept half');
    const markers = all.filter((e) => e.status === 'log-rotation').map((e) => e.attributes[ROTATE_ATTRIBUTE]);
    assert.ok(markers.includes('begin') && markers.includes('end'));
  });

  it('a limit of 0 never rotates', async () => {
    const log = new EventLog(dir, 0);
    for (let i = 0; i < 300; i++) log.append([ev(i, new Date())]);
    assert.equal((await must(log.read())).length, 300);
  });

  it('readEvents({ since }) reads only the end of a large log, and agrees with a full read', async () => {
    const log = new EventLog(dir, 0);
    const old = Date.parse('2020-01-01T00:00:00Z');
    const batch: LibpodEvent[] = [];
    for (let i = 0; i < 20_000; i++) batch.push(ev(i, new Date(old + i * 1000), i % 37));
    log.append(batch);
    const recent = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 10; i++) log.append([ev(100_000 + i, new Date(recent + i * 60_000), i * 3000)]); // some lines longer than a chunk
    const size = (await stat(log.path)).size;
    assert.ok(size > 1_000_000);
    const since = new Date(recent + 3 * 60_000);
    const got = await must(log.read({ since }));
    assert.ok(log.lastReadBytes < 256 * 1024, `read ${log.lastReadBytes} of ${size} bytes`);
    const full = (await must(log.read())).filter((e) => e.time >= since);
    assert.deepEqual(got, full);
    assert.equal(got.length, 7);
    // Every boundary: a since inside the old part gives the same as the full read.
    for (const s of [old, old + 5_000_500, old + 19_999_000, old + 20_000_000]) {
      const a = await must(log.read({ since: new Date(s) }));
      const b = (await must(log.read())).filter((e) => e.time >= new Date(s));
      assert.equal(a.length, b.length, `since ${new Date(s).toISOString()}`);
    }
  });

  it('Runtime.open({ eventLogMaxSize }) bounds the log; a bad size is InvalidArg', async () => {
    const e = await fakeEngine();
    try {
      await must(e.runtime.close());
      const rt = await must(Runtime.open({ root: e.root, runRoot: e.runRoot, store: e.store, ociRuntime: e.fake, eventLogMaxSize: 4000 }));
      for (let i = 0; i < 40; i++) await must(rt.newContainer({ rootfs: e.rootfs, command: ['x'], name: `c${i}` }));
      assert.ok((await stat(join(e.root, 'events', 'events.log'))).size < 4000);
      const names = (await must(rt.readEvents({ filter: { type: 'container' } }))).map((x) => x.name);
      assert.equal(names.at(-1), 'c39');
      await must(rt.close());
      assert.equal((await mustFail(Runtime.open({ root: e.root, runRoot: e.runRoot, eventLogMaxSize: -1 }))).code, 'InvalidArg');
      assert.equal((await mustFail(Runtime.open({ root: e.root, runRoot: e.runRoot, eventLogMaxSize: '1m' as never }))).code, 'InvalidArg');
    } finally {
      await e.reopen();
      await e.dispose();
    }
  });
});
