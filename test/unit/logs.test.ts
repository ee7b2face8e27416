import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { readLogs, type LogLine, type ReadLogsOptions } from '../../src/container/logs.js';
import { formatK8sRecords } from '../../src/oci/k8s-file-log.js';

let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-logs-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function logFile(): string {
  n += 1;
  return join(dir, `ctr-${n}.log`);
}

const stopped = async (): Promise<boolean> => false;

async function collect(path: string, opts: Partial<ReadLogsOptions> = {}): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const line of readLogs(path, { isRunning: stopped, ...opts })) out.push(line);
  return out;
}

const texts = (lines: LogLine[]): string[] => lines.map((l) => `${l.stream}:${l.text}${l.partial ? '…' : ''}`);

/** A switch the test flips to end following. */
function runningFlag(): { isRunning: () => Promise<boolean>; stop: () => void } {
  let running = true;
  return { isRunning: async () => running, stop: () => void (running = false) };
}

function watcherAndTimerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'Timeout').length;
}

describe('readLogs', () => {
  it('joins partial records into logical lines, per stream', async () => {
    const path = logFile();
    const t = new Date('2024-01-01T10:00:00Z');
    await writeFile(
      path,
      formatK8sRecords('stdout', 'hel', t) +
        formatK8sRecords('stderr', 'oops\n', t) +
        formatK8sRecords('stdout', 'lo\nworld\n', t) +
        'garbage line\n' +
        formatK8sRecords('stdout', 'no newline', t),
    );
    const lines = await collect(path);
    assert.deepEqual(texts(lines), ['stderr:oops', 'stdout:hello', 'stdout:world', 'stdout:no newline…']);
    assert.equal(lines[0]!.time.getTime(), t.getTime());
  });

  it('keeps the last N lines with tail', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'a\nb\nc\nd\n'));
    assert.deepEqual(texts(await collect(path, { tail: 2 })), ['stdout:c', 'stdout:d']);
    assert.deepEqual(await collect(path, { tail: 0 }), []);
    assert.deepEqual(texts(await collect(path, { tail: 10 })), ['stdout:a', 'stdout:b', 'stdout:c', 'stdout:d']);
  });

  it('filters on since and until', async () => {
    const path = logFile();
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s));
    await writeFile(path, formatK8sRecords('stdout', 'one\n', at(1)) + formatK8sRecords('stdout', 'two\n', at(2)) + formatK8sRecords('stdout', 'three\n', at(3)));
    assert.deepEqual(texts(await collect(path, { since: at(2) })), ['stdout:two', 'stdout:three']);
    assert.deepEqual(texts(await collect(path, { until: at(2) })), ['stdout:one', 'stdout:two']);
    assert.deepEqual(texts(await collect(path, { since: at(2), until: at(2) })), ['stdout:two']);
  });

  it('yields nothing for a missing file', async () => {
    assert.deepEqual(await collect(join(dir, 'missing.log')), []);
    assert.deepEqual(await collect(join(dir, 'missing.log'), { follow: true }), []);
    assert.deepEqual(await collect(join(dir, 'no-such-dir', 'ctr.log'), { follow: true }), []);
  });

  it('can be iterated again from the start', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'x\n'));
    const logs = readLogs(path, { isRunning: stopped });
    for (let i = 0; i < 2; i += 1) {
      const seen: string[] = [];
      for await (const l of logs) seen.push(l.text);
      assert.deepEqual(seen, ['x']);
    }
  });

  it('follows appends until the container stops and the file is drained', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'first\n'));
    const flag = runningFlag();
    const seen: LogLine[] = [];
    const done = (async () => {
      for await (const l of readLogs(path, { follow: true, isRunning: flag.isRunning })) seen.push(l);
    })();
    await sleep(100);
    await appendFile(path, formatK8sRecords('stdout', 'sec'));
    await sleep(100);
    await appendFile(path, formatK8sRecords('stdout', 'ond\n') + formatK8sRecords('stderr', 'err\n'));
    await sleep(400);
    assert.deepEqual(texts(seen), ['stdout:first', 'stdout:second', 'stderr:err']);
    await appendFile(path, formatK8sRecords('stdout', 'last words\n'));
    flag.stop();
    await done;
    assert.deepEqual(texts(seen), ['stdout:first', 'stdout:second', 'stderr:err', 'stdout:last words']);
  });

  it('waits for a log that does not exist yet while running, and tails before following', async () => {
    const path = logFile();
    const flag = runningFlag();
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of readLogs(path, { follow: true, tail: 1, isRunning: flag.isRunning })) seen.push(l.text);
    })();
    await sleep(150);
    await writeFile(path, formatK8sRecords('stdout', 'born\n'));
    await sleep(400);
    flag.stop();
    await done;
    assert.deepEqual(seen, ['born']);
  });

  it('starts over when the file is truncated', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'old line one\nold line two\n'));
    const flag = runningFlag();
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of readLogs(path, { follow: true, isRunning: flag.isRunning })) seen.push(l.text);
    })();
    await sleep(150);
    await truncate(path, 0);
    await sleep(400);
    await appendFile(path, formatK8sRecords('stdout', 'new\n'));
    await sleep(400);
    flag.stop();
    await done;
    assert.deepEqual(seen, ['old line one', 'old line two', 'new']);
  });

  it('emits a trailing partial line when following ends', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'prompt> '));
    assert.deepEqual(texts(await collect(path, { follow: true })), ['stdout:prompt> …']);
  });

  it('releases its watcher and timers when the consumer breaks early', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'a\nb\n'));
    await sleep(20);
    const baseline = watcherAndTimerCount();
    for await (const l of readLogs(path, { follow: true, isRunning: async () => true })) {
      assert.equal(l.text, 'a');
      break;
    }
    await sleep(50);
    assert.equal(watcherAndTimerCount(), baseline);
    // and while it was waiting for new output
    const it2 = readLogs(path, { follow: true, tail: 0, isRunning: async () => true })[Symbol.asyncIterator]();
    const pending = it2.next();
    await sleep(100);
    await appendFile(path, formatK8sRecords('stdout', 'c\n'));
    assert.equal((await pending).value?.text, 'c');
    await it2.return?.();
    await sleep(50);
    assert.equal(watcherAndTimerCount(), baseline);
  });

  it('never throws: a failing isRunning ends following, an unreadable path ends reading', async () => {
    const path = logFile();
    await writeFile(path, formatK8sRecords('stdout', 'x\n'));
    const lines = await collect(path, {
      follow: true,
      isRunning: () => Promise.reject(new Error('boom')),
    });
    assert.deepEqual(texts(lines), ['stdout:x']);
    assert.deepEqual(await collect(dir), [], 'a directory is an I/O error, not a throw');
  });
});
