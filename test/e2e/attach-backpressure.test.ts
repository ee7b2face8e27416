/**
 * Attach and exec output honour backpressure (issue 8), on real containers
 * (root only): a consumer that stops reading pauses the attach socket, so
 * conmon and then the container stall instead of this process buffering
 * everything; once it reads again, all output arrives, complete and in
 * order, and the exit code is right. Also: stdin bigger than conmon's
 * 32 KiB packet buffer arrives whole, and a container that does not read its
 * stdin pauses the caller's stdin stream instead of this process queueing it.
 */
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { must } from '../support/engine.js';
import { collect } from '../support/streams.js';
import { useRealEngine } from './support/real-engine.js';

const isRoot = process.getuid?.() === 0;

/** How long the consumer does not read. */
const STALL_MS = 2_000;
/** What may be buffered in this process meanwhile (the old code buffered everything the container wrote). */
const BOUND = 1024 * 1024;

/**
 * A consumer of `seq` output: a small-buffered Writable that holds its
 * writes while stalled, then checks that lines count up from 1 with no gap.
 */
function seqConsumer(): { stream: Writable; release: () => void; lines: () => number; broken: () => string | undefined } {
  const held: (() => void)[] = [];
  let stalled = true;
  let partial = '';
  let last = 0;
  let broken: string | undefined;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      const text = partial + chunk.toString('latin1');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        if (broken === undefined && Number(p) !== last + 1) broken = `after ${last} came ${JSON.stringify(p.slice(0, 40))}`;
        last++;
      }
      if (stalled) held.push(() => cb());
      else cb();
    },
  });
  return {
    stream,
    release: () => {
      stalled = false;
      for (const cb of held.splice(0)) cb();
    },
    lines: () => last,
    broken: () => broken ?? (partial === '' ? undefined : `unterminated ${JSON.stringify(partial.slice(0, 40))}`),
  };
}

/** Waits (bounded) until `stream` has processed what it was given: the session ends once its last packet is handed over. */
async function flushed(stream: Writable): Promise<void> {
  for (let i = 0; i < 500 && stream.writableLength > 0; i++) await sleep(10);
}

/** Waits while the consumer is stalled; returns the most this process held meanwhile. */
async function stallAndMeasure(stream: Writable): Promise<{ buffered: number; memory: number }> {
  const base = process.memoryUsage().arrayBuffers;
  let buffered = 0;
  let memory = 0;
  for (let waited = 0; waited < STALL_MS; waited += 100) {
    await sleep(100);
    buffered = Math.max(buffered, stream.writableLength);
    memory = Math.max(memory, process.memoryUsage().arrayBuffers - base);
  }
  return { buffered, memory };
}

describe('attach and exec output backpressure (conmon + runc)', { skip: isRoot ? false : 'needs root' }, () => {
  const e = useRealEngine('lpts-backpressure-');

  it('exec: a consumer that stops reading stalls the process; then all output arrives in order', async () => {
    const c = await e.create();
    await must(c.start());
    const out = seqConsumer();
    const lines = 2_000_000;
    const exec = c.exec(['/bin/sh', '-c', `seq 1 ${lines}; exit 5`], { streams: { stdout: out.stream } });
    const held = await stallAndMeasure(out.stream);
    assert.ok(held.buffered < BOUND, `the consumer's buffer stayed bounded (${held.buffered} bytes)`);
    assert.ok(held.memory < 8 * BOUND, `buffers in this process stayed bounded (${held.memory} bytes)`);
    assert.ok(out.lines() < lines, 'the process was stalled');
    out.release();
    assert.equal((await must(exec)).exitCode, 5);
    await flushed(out.stream);
    assert.equal(out.broken(), undefined);
    assert.equal(out.lines(), lines);
  });

  it('output still queued in the socket when conmon exits is all delivered', async () => {
    const c = await e.create();
    await must(c.start());
    // A few packets: they fit in the socket's buffers, so conmon writes them all and exits while
    // the consumer is stalled, leaving them queued behind its hang-up.
    for (const lines of [5_000, 20_000]) {
      const out = seqConsumer();
      const exec = c.exec(['/bin/sh', '-c', `seq 1 ${lines}; exit 6`], { streams: { stdout: out.stream } });
      await sleep(1_000);
      out.release();
      assert.equal((await must(exec)).exitCode, 6);
      await flushed(out.stream);
      assert.equal(out.broken(), undefined);
      assert.equal(out.lines(), lines);
    }
  });

  it('startAndAttach: a stalled stdout pauses the container; stderr and the exit code still arrive', async () => {
    const lines = 1_000_000;
    const c = await e.create({ command: ['/bin/sh', '-c', `seq 1 ${lines}; echo finished >&2; exit 3`] });
    const out = seqConsumer();
    const err = collect();
    const { done } = await must(c.startAndAttach({ stdout: out.stream, stderr: err.stream }));
    const held = await stallAndMeasure(out.stream);
    assert.ok(held.buffered < BOUND, `the consumer's buffer stayed bounded (${held.buffered} bytes)`);
    assert.ok(out.lines() < lines, 'the container was stalled');
    assert.equal(err.text(), '');
    out.release();
    await must(done);
    await flushed(out.stream);
    assert.equal(out.broken(), undefined);
    assert.equal(out.lines(), lines);
    assert.equal(err.text(), 'finished\n');
    assert.equal(await must(c.wait()), 3);
  });

  it('a consumer destroyed while stalled does not wedge the exec: the rest is discarded', async () => {
    const c = await e.create();
    await must(c.start());
    const out = seqConsumer();
    const exec = c.exec(['/bin/sh', '-c', 'seq 1 1000000; exit 4'], { streams: { stdout: out.stream } });
    await sleep(500);
    out.stream.destroy();
    assert.equal((await must(exec)).exitCode, 4);
  });

  it('detaching works while output is paused', async () => {
    const c = await e.create({ command: ['/bin/sh', '-c', 'seq 1 100000000'], stdin: true });
    await must(c.start());
    const out = seqConsumer();
    const stdin = new PassThrough();
    const attached = c.attach({ stdout: out.stream, stdin });
    await sleep(500);
    stdin.write(Buffer.from([0x10, 0x11]));
    assert.equal(await must(attached), 'detached');
    assert.equal(await must(c.state()), 'running');
    await must(c.stop({ timeout: 0 }));
  });

  it('stdin larger than conmon 32 KiB packet buffer arrives whole, in one chunk or many', async () => {
    const c = await e.create();
    await must(c.start());
    const big = Buffer.alloc(300_000, 'x');
    for (const chunks of [[big], Array.from({ length: 30 }, () => big.subarray(0, 10_000))]) {
      const out = collect();
      const stdin = new PassThrough();
      for (const chunk of chunks) stdin.write(chunk);
      stdin.end();
      const r = await must(c.exec(['/bin/sh', '-c', 'wc -c'], { streams: { stdin, stdout: out.stream } }));
      assert.equal(r.exitCode, 0);
      assert.equal(Number(out.text().trim()), chunks.reduce((n, b) => n + b.length, 0));
    }
  });

  it('stdin: a container that does not read it pauses the caller stream; then all of it arrives', async () => {
    const c = await e.create();
    await must(c.start());
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(16 * 1024, 'y');
    let produced = 0;
    const stdin = new Readable({
      highWaterMark: 16 * 1024,
      read() {
        if (produced >= total) this.push(null);
        else {
          produced += chunk.length;
          this.push(chunk);
        }
      },
    });
    const out = collect();
    const exec = c.exec(['/bin/sh', '-c', 'sleep 2; wc -c'], { streams: { stdin, stdout: out.stream } });
    await sleep(STALL_MS - 500);
    // Kernel pipe and socket buffers, conmon's and this process's queues: a few MiB at most (the
    // old code read the whole 32 MiB stream into its queue at once).
    assert.ok(produced < 4 * BOUND, `the caller's stdin was paused (${produced} bytes read)`);
    const r = await must(exec);
    assert.equal(r.exitCode, 0);
    assert.equal(Number(out.text().trim()), total);
  });
});
