import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runPoststopHooks, runPrecreateHooks, selectHooks } from '../../src/container/hooks.js';
import type { OciSpec } from '../../src/oci/oci-spec-types.js';

let dir: string;
let bin: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-hooks-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  await script('true.sh', 'exit 0');
  await script('fail.sh', 'echo broken >&2; exit 3');
  await script('garbage.sh', 'cat >/dev/null; echo not-json');
  // a precreate filter: renames the hostname, records its first argument and FOO
  await script('filter.sh', `sed 's/"hostname":"[^"]*"/"hostname":"filtered"/'; echo "$1 $FOO" > "${join(dir, 'filter.out')}"`);
  await script('record.sh', 'cat > "$1"');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const path = join(bin, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

async function hooksDir(files: Record<string, unknown>): Promise<string> {
  n += 1;
  const d = join(dir, `hooks-${n}`);
  await mkdir(d);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(d, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return d;
}

function hookFile(name: string, when: unknown, stages: string[], extra: Record<string, unknown> = {}): unknown {
  return { version: '1.0.0', hook: { path: join(bin, name), ...extra }, when, stages };
}

function baseSpec(): OciSpec {
  return {
    ociVersion: '1.0.2-dev',
    process: { user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', 'true'], cwd: '/' },
    hostname: 'original',
    annotations: { 'com.example.trace': 'on' },
  };
}

describe('selectHooks', () => {
  it('has no hooks for a missing directory', async () => {
    const spec = baseSpec();
    const r = await selectHooks(join(dir, 'nope'), spec, false);
    assert.ok(r.isOk());
    assert.deepEqual(r.value, {});
    assert.equal(spec.hooks, undefined);
  });

  it('puts OCI stages in the spec and returns every matched hook by stage', async () => {
    const d = await hooksDir({
      '10-always.json': hookFile('true.sh', { always: true }, ['prestart', 'poststop']),
      '20-command.json': hookFile('record.sh', { commands: ['^/bin/sh$'] }, ['poststart']),
      '30-annotation.json': hookFile('filter.sh', { annotations: { '^com\\.example\\.trace$': '^on$' } }, ['precreate', 'prestart']),
      '40-binds.json': hookFile('true.sh', { hasBindMounts: true }, ['createRuntime']),
      '50-nomatch.json': hookFile('true.sh', { commands: ['^/usr/bin/python'], always: false }, ['prestart']),
      'README.txt': 'not a hook',
    });
    const spec = baseSpec();
    const r = await selectHooks(d, spec, false);
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.deepEqual(
      spec.hooks?.prestart?.map((h) => h.path),
      [join(bin, 'true.sh'), join(bin, 'filter.sh')],
      'in file name order',
    );
    assert.deepEqual(spec.hooks?.poststart?.map((h) => h.path), [join(bin, 'record.sh')]);
    assert.equal(spec.hooks?.poststop, undefined, 'poststop is run by the engine, not the runtime');
    assert.equal(spec.hooks?.createRuntime, undefined, 'no bind mounts');
    assert.deepEqual(r.value.precreate?.map((h) => h.path), [join(bin, 'filter.sh')]);
    assert.deepEqual(r.value.poststop?.map((h) => h.path), [join(bin, 'true.sh')]);

    const withBinds = baseSpec();
    await selectHooks(d, withBinds, true);
    assert.deepEqual(withBinds.hooks?.createRuntime?.map((h) => h.path), [join(bin, 'true.sh')]);
  });

  it('refuses invalid hook files with InvalidArg', async () => {
    const cases: Record<string, unknown> = {
      'bad-json': '{ nope',
      version: { ...(hookFile('true.sh', { always: true }, ['prestart']) as object), version: '2.0.0' },
      stage: hookFile('true.sh', { always: true }, ['sometime']),
      'no-stages': hookFile('true.sh', { always: true }, []),
      'no-when': hookFile('true.sh', {}, ['prestart']),
      'relative-path': { version: '1.0.0', hook: { path: 'true.sh' }, when: { always: true }, stages: ['prestart'] },
      regexp: hookFile('true.sh', { commands: ['(unclosed'] }, ['prestart']),
      timeout: hookFile('true.sh', { always: true }, ['prestart'], { timeout: -1 }),
      'missing-binary': hookFile('missing.sh', { always: true }, ['prestart']),
    };
    for (const [label, content] of Object.entries(cases)) {
      const d = await hooksDir({ 'bad.json': content });
      const r = await selectHooks(d, baseSpec(), false);
      assert.ok(r.isErr(), label);
      assert.equal(r.error.code, 'InvalidArg', label);
    }
  });
});

describe('runPrecreateHooks', () => {
  it('filters the spec through each hook, with its args and env', async () => {
    const hooks = [{ path: join(bin, 'filter.sh'), args: ['filter.sh', 'first-arg'], env: ['FOO=bar'] }];
    const r = await runPrecreateHooks(hooks, baseSpec());
    assert.ok(r.isOk(), r.isErr() ? r.error.message : '');
    assert.equal(r.value.hostname, 'filtered');
    assert.deepEqual(r.value.process?.args, ['/bin/sh', '-c', 'true']);
    assert.equal((await readFile(join(dir, 'filter.out'), 'utf8')).trim(), 'first-arg bar');
  });

  it('returns the spec unchanged without hooks', async () => {
    const spec = baseSpec();
    assert.deepEqual((await runPrecreateHooks([], spec))._unsafeUnwrap(), spec);
  });

  it('fails on a failing hook, invalid output or a missing binary', async () => {
    const code = async (path: string) => {
      const r = await runPrecreateHooks([{ path }], baseSpec());
      return r.isErr() ? r.error.code : 'ok';
    };
    assert.equal(await code(join(bin, 'fail.sh')), 'OCIRuntime');
    assert.equal(await code(join(bin, 'garbage.sh')), 'InvalidArg');
    assert.equal(await code(join(bin, 'missing.sh')), 'InvalidArg');
  });
});

describe('runPoststopHooks', () => {
  it('runs every hook with the state on stdin and collects failures', async () => {
    const out = join(dir, 'state.json');
    const state = JSON.stringify({ ociVersion: '1.0.2', id: 'abc', status: 'stopped' });
    const r = await runPoststopHooks(
      [{ path: join(bin, 'fail.sh') }, { path: join(bin, 'record.sh'), args: ['record.sh', out] }, { path: join(bin, 'missing.sh') }],
      state,
    );
    assert.ok(r.isOk());
    assert.deepEqual(r.value.map((e) => e.code), ['OCIRuntime', 'InvalidArg']);
    assert.equal(await readFile(out, 'utf8'), state);
  });

  it('survives a hook that exits without reading a large input', async () => {
    const r = await runPoststopHooks([{ path: join(bin, 'true.sh') }], 'x'.repeat(4 * 1024 * 1024));
    assert.ok(r.isOk());
    assert.deepEqual(r.value, []);
  });
});
