/**
 * Registry auth pieces without a registry: `WWW-Authenticate` parsing and
 * the credential lookup order of c/image (auth, authFile alone,
 * $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.docker/config.json; credHelpers, auths, credsStore).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseChallenges } from '../../src/image/transports/registry/auth.js';
import { findCredentials, normalizeAuthKey } from '../../src/image/transports/registry/credentials.js';
import { pullCandidates } from '../../src/image/pull.js';
import { formatReference } from '../../src/image/reference.js';

let dir: string;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-registry-auth-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WWW-Authenticate', () => {
  it('parses Bearer and Basic challenges with quoted and bare parameters', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="a \\"b\\""'), [{ scheme: 'basic', params: { realm: 'a "b"' } }]);
    assert.deepEqual(parseChallenges('Basic realm=x, Bearer realm=http://t/token, service=s'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'http://t/token', service: 's' } },
    ]);
    assert.deepEqual(parseChallenges(''), []);
  });
});

describe('credentials', () => {
  it('normalizes auth file keys', () => {
    assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeAuthKey('http://127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(normalizeAuthKey('quay.io/me/'), 'quay.io/me');
  });

  it('follows c/image order: auth, authFile alone, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, ~/.docker/config.json', async () => {
    const a = join(dir, 'a.json');
    const xdg = join(dir, 'xdg');
    const home = join(dir, 'home');
    await mkdir(join(xdg, 'containers'), { recursive: true });
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(a, JSON.stringify({ auths: { 'r.test': { auth: b64('fromA:pa') } } }));
    await writeFile(join(xdg, 'containers', 'auth.json'), JSON.stringify({ auths: { 'r.test': { auth: b64('fromXdg:px') }, 'x.test': { auth: b64('x:y') } } }));
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:ph') }, 'q.test/team': { auth: b64('team:t') }, 'q.test': { auth: b64('all:q') } } }));
    const env = { REGISTRY_AUTH_FILE: a, XDG_RUNTIME_DIR: xdg, HOME: home };
    assert.deepEqual(await findCredentials({ auth: { username: 'u', password: 'p' }, env }, 'r.test', 'x'), { username: 'u', password: 'p' });
    assert.deepEqual(await findCredentials({ env }, 'r.test', 'x'), { username: 'fromA', password: 'pa' });
    assert.deepEqual(await findCredentials({ env: { XDG_RUNTIME_DIR: xdg, HOME: home } }, 'r.test', 'x'), { username: 'fromXdg', password: 'px' });
    assert.deepEqual(await findCredentials({ env }, 'x.test', 'x'), { username: 'x', password: 'y' });
    assert.deepEqual(await findCredentials({ env }, 'docker.io', 'library/busybox'), { username: 'hub', password: 'ph' });
    assert.deepEqual(await findCredentials({ env }, 'q.test', 'team/app'), { username: 'team', password: 't' });
    assert.deepEqual(await findCredentials({ env }, 'q.test', 'other/app'), { username: 'all', password: 'q' });
    // an explicit authFile is the only file read
    assert.equal(await findCredentials({ authFile: a, env }, 'x.test', 'x'), undefined);
    assert.equal(await findCredentials({ env: { HOME: join(dir, 'none') } }, 'r.test', 'x'), undefined);
  });

  it('malformed auth files are InvalidArg', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{not json');
    await assert.rejects(findCredentials({ authFile: bad }, 'r.test', 'x'), (e: { code?: string }) => e.code === 'InvalidArg');
    await writeFile(bad, JSON.stringify({ auths: { 'r.test': { auth: b64('nocolon') } } }));
    await assert.rejects(findCredentials({ authFile: bad }, 'r.test', 'x'), (e: { code?: string }) => e.code === 'InvalidArg');
  });

  it('credHelpers and credsStore run docker-credential-<name> get', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-testhelper');
    await writeFile(helper, '#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "h.test" ]; then echo "{\\"Username\\":\\"helped\\",\\"Secret\\":\\"s\\"}"; else echo "credentials not found in native keychain"; exit 1; fi\n');
    await chmod(helper, 0o755);
    const file = join(dir, 'helpers.json');
    await writeFile(file, JSON.stringify({ credHelpers: { 'h.test': 'testhelper' } }));
    const store = join(dir, 'store.json');
    await writeFile(store, JSON.stringify({ credsStore: 'testhelper' }));
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath ?? ''}`;
    try {
      assert.deepEqual(await findCredentials({ authFile: file }, 'h.test', 'app'), { username: 'helped', password: 's' });
      assert.deepEqual(await findCredentials({ authFile: store }, 'h.test', 'app'), { username: 'helped', password: 's' });
      assert.equal(await findCredentials({ authFile: store }, 'other.test', 'app'), undefined);
    } finally {
      process.env.PATH = oldPath;
    }
  });
});

describe('short names', () => {
  it('are tried on each search registry; qualified names only where they say', () => {
    assert.deepEqual(pullCandidates('busybox', ['docker.io', 'quay.io']).map(formatReference), ['docker.io/library/busybox:latest', 'quay.io/busybox:latest']);
    assert.deepEqual(pullCandidates('127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64), ['docker.io']).map(formatReference), ['127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64)]);
    assert.throws(() => pullCandidates('busybox', []), (e: { code?: string }) => e.code === 'NoSuchImage');
  });
});
