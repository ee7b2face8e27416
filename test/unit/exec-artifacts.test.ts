import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { collect } from '../support/streams.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';


describe('exec', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('returns the exit code and output of the scripted process', async () => {
    e.fake.onExec((req) => (req.args[0] === 'echo' ? { exitCode: 0, stdout: `${req.args.slice(1).join(' ')}\n` } : 3));
    const c = await e.create();
    await must(c.start());
    const out = collect();
    assert.deepEqual(await must(c.exec(['echo', 'hi'], { streams: { stdout: out.stream } })), { exitCode: 0 });
    assert.equal(out.text(), 'hi\n');
    assert.deepEqual(await must(c.exec(['false'])), { exitCode: 3 });
    const info = await must(c.inspect());
    assert.equal(info.execSessions.length, 0, 'finished sessions are dropped');
  });

  it('a command that cannot be found is 127, one that cannot be invoked 126', async () => {
    e.fake.onExec((req) => (req.args[0] === '/nope' ? { error: 'not-found' } : { error: 'permission-denied' }));
    const c = await e.create();
    await must(c.start());
    assert.deepEqual(await must(c.exec(['/nope'])), { exitCode: 127 });
    assert.deepEqual(await must(c.exec(['/etc/passwd'])), { exitCode: 126 });
  });

  it('exec into a container that is not running is CtrStateInvalid', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.exec(['true']))).code, 'CtrStateInvalid');
  });

  it('exec passes env, user and workDir to the runtime', async () => {
    let seen: { env?: string[]; cwd?: string } = {};
    e.fake.onExec((req) => {
      seen = { env: req.env, cwd: req.cwd };
      return 0;
    });
    const c = await e.create();
    await must(c.start());
    await must(c.exec(['true'], { env: { FOO: 'bar' }, workDir: '/tmp' }));
    assert.ok(seen.env?.includes('FOO=bar'));
    assert.equal(seen.cwd, '/tmp');
  });

  it('a live exec session blocks removal without force', async () => {
    e.fake.onExec(() => ({ hang: true }));
    const c = await e.create();
    await must(c.start());
    const running = c.exec(['sleep', '100']);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await must(c.inspect())).execSessions.length, 1);
    e.fake.exit(c.id, 0);
    await must(c.wait());
    await running;
    assert.equal((await must(c.inspect())).execSessions.length, 0);
  });

  it('bad exec input is InvalidArg', async () => {
    const c = await e.create();
    assert.equal((await mustFail(c.exec([]))).code, 'InvalidArg');
    assert.equal((await mustFail(c.exec('ls' as never))).code, 'InvalidArg');
    assert.equal((await mustFail(c.exec(['ls'], { workDir: 'relative' }))).code, 'InvalidArg');
    assert.equal((await mustFail(c.exec(['ls'], { bogus: 1 } as never))).code, 'InvalidArg');
  });
});

describe('artifacts', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  it('adds, reads and removes artifacts', async () => {
    const c = await e.create();
    await must(c.addArtifact('notes.txt', 'hello'));
    assert.equal(Buffer.from(await must(c.getArtifact('notes.txt'))).toString(), 'hello');
    await must(c.addArtifact('bin', new Uint8Array([1, 2, 3])));
    assert.deepEqual([...(await must(c.getArtifact('bin')))], [1, 2, 3]);
    await must(c.removeArtifact('notes.txt'));
    assert.equal((await mustFail(c.getArtifact('notes.txt'))).code, 'InvalidArg');
  });

  it('refuses names that escape the artifact directory', async () => {
    const c = await e.create();
    for (const bad of ['../x', '/etc/passwd', '', '..', '.', 'a/b', 'a\0b']) {
      assert.equal((await mustFail(c.addArtifact(bad, 'x'))).code, 'InvalidArg', bad);
      assert.equal((await mustFail(c.getArtifact(bad))).code, 'InvalidArg', bad);
    }
  });

  it('artifacts of a removed container are CtrRemoved', async () => {
    const c = await e.create();
    await must(c.addArtifact('a', 'x'));
    await must(e.runtime.removeContainer(c));
    assert.equal((await mustFail(c.getArtifact('a'))).code, 'CtrRemoved');
  });
});
