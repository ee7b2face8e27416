/**
 * The conmon attach pump's backpressure (issue 8): a caller stream whose
 * `write()` returns false pauses the connection until it drains, with a
 * fake connection standing in for conmon's socket (no root needed).
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createAttachPump } from '../../src/oci/conmon/attach-copy.js';
import { ATTACH_STDERR, ATTACH_STDOUT, type AttachConnection } from '../../src/oci/conmon/attach-socket.js';

/** A connection that records what the pump asks of it; `paused` is the socket's state. */
function fakeConnection(): AttachConnection & { paused: boolean; closed: boolean; pauses: number; input: Buffer[]; full: boolean; drain: () => void } {
  const drained: (() => void)[] = [];
  const c = {
    paused: false,
    closed: false,
    pauses: 0,
    input: [] as Buffer[],
    /** Whether `write` reports a full stdin queue. */
    full: false,
    write: (data: Buffer) => {
      c.input.push(data);
      return !c.full;
    },
    whenDrained: (cb: () => void) => {
      if (c.full) drained.push(cb);
      else cb();
    },
    drain: () => {
      c.full = false;
      for (const cb of drained.splice(0)) cb();
    },
    endInput: (flushed?: () => void) => flushed?.(),
    pause: () => {
      c.paused = true;
      c.pauses++;
    },
    resume: () => {
      c.paused = false;
    },
    close: () => {
      c.closed = true;
    },
  };
  return c;
}

/** A Writable with a tiny buffer whose writes complete only when `release()` is called. */
function stalledSink(): { stream: Writable; received: () => string; release: () => void } {
  const chunks: Buffer[] = [];
  const held: (() => void)[] = [];
  let stalled = true;
  const stream = new Writable({
    highWaterMark: 8,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (stalled) held.push(() => cb());
      else cb();
    },
  });
  return {
    stream,
    received: () => Buffer.concat(chunks).toString(),
    release: () => {
      stalled = false;
      for (const cb of held.splice(0)) cb();
    },
  };
}

const packet = (text: string): Buffer => Buffer.from(text);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('attach pump backpressure', () => {
  it('pauses the connection while stdout is full and resumes on drain, delivering everything in order', async () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], false);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('first packet\n'));
    assert.equal(conn.paused, true);
    // A packet already read from the socket is still delivered, in order.
    pump.handlers.onPacket(ATTACH_STDOUT, packet('second\n'));
    assert.equal(conn.pauses, 1);
    out.release();
    await tick();
    assert.equal(conn.paused, false);
    assert.equal(out.received(), 'first packet\nsecond\n');
    pump.handlers.onEnd({ kind: 'eof' });
    assert.equal((await pump.done)._unsafeUnwrap(), 'ended');
  });

  it('with stdout and stderr both full, resumes only when neither is waiting', async () => {
    const out = stalledSink();
    const err = stalledSink();
    const pump = createAttachPump({ stdout: out.stream, stderr: err.stream }, [], false);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('out out out\n'));
    pump.handlers.onPacket(ATTACH_STDERR, packet('err err err\n'));
    assert.equal(conn.paused, true);
    out.release();
    await tick();
    assert.equal(conn.paused, true, 'stderr still waits');
    err.release();
    await tick();
    assert.equal(conn.paused, false);
    assert.equal(out.received(), 'out out out\n');
    assert.equal(err.received(), 'err err err\n');
    pump.close();
  });

  it('a terminal sends both streams to stdout and waits on it alone', async () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], true);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDERR, packet('tty output line\n'));
    assert.equal(conn.paused, true);
    out.release();
    await tick();
    assert.equal(conn.paused, false);
    assert.equal(out.received(), 'tty output line\n');
    pump.close();
  });

  it('never pauses for a stream the caller did not give: those packets are discarded', () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], false);
    const conn = fakeConnection();
    pump.bind(conn);
    for (let i = 0; i < 100; i++) pump.handlers.onPacket(ATTACH_STDERR, packet('discarded stderr\n'));
    assert.equal(conn.pauses, 0);
    assert.equal(out.received(), '');
    pump.close();
  });

  it('a consumer destroyed while it is waited for resumes the connection; its later packets are discarded', async () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], false);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('before the end\n'));
    assert.equal(conn.paused, true);
    out.stream.destroy();
    await tick();
    assert.equal(conn.paused, false);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('after the end\n'));
    assert.equal(conn.paused, false);
    assert.equal(conn.pauses, 1);
    pump.handlers.onEnd({ kind: 'eof' });
    assert.equal((await pump.done)._unsafeUnwrap(), 'ended');
  });

  it('a consumer ended while it is waited for resumes the connection', async () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], false);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('some output\n'));
    assert.equal(conn.paused, true);
    out.stream.end();
    out.release();
    await tick();
    assert.equal(conn.paused, false);
    pump.close();
  });

  it('detaches from stdin while output is paused, and stops waiting for the consumer', async () => {
    const out = stalledSink();
    const stdin = new PassThrough();
    const pump = createAttachPump({ stdin, stdout: out.stream }, [0x10, 0x11], false);
    const conn = fakeConnection();
    pump.bind(conn);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('stuck output\n'));
    assert.equal(conn.paused, true);
    stdin.write('typed\n');
    stdin.write(Buffer.from([0x10, 0x11]));
    assert.equal((await pump.done)._unsafeUnwrap(), 'detached');
    assert.equal(conn.closed, true);
    assert.equal(Buffer.concat(conn.input).toString(), 'typed\n');
    assert.equal(out.stream.listenerCount('drain'), 0, 'no listener left on the caller stream');
  });

  it('a packet that arrives before the connection is bound pauses it at bind', () => {
    const out = stalledSink();
    const pump = createAttachPump({ stdout: out.stream }, [], false);
    pump.handlers.onPacket(ATTACH_STDOUT, packet('early packet\n'));
    const conn = fakeConnection();
    pump.bind(conn);
    assert.equal(conn.paused, true);
    pump.close();
  });

  it('stdin: a full queue pauses the caller stream until it drains; a detach still ends the session', async () => {
    const stdin = new PassThrough();
    const pump = createAttachPump({ stdin }, [0x10, 0x11], false);
    const conn = fakeConnection();
    conn.full = true;
    pump.bind(conn);
    stdin.write('a lot of input');
    await tick();
    assert.equal(stdin.isPaused(), true);
    conn.drain();
    assert.equal(stdin.isPaused(), false);
    stdin.write('more');
    await tick();
    assert.equal(Buffer.concat(conn.input).toString(), 'a lot of inputmore');
    stdin.write(Buffer.from([0x10, 0x11]));
    await tick();
    assert.equal((await pump.done)._unsafeUnwrap(), 'detached');
  });
});
