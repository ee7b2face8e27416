import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  familiarReference,
  formatReference,
  isShortName,
  normalizeLocalName,
  normalizeReference,
  parseNormalizedReference,
  parseReference,
} from '../../src/image/reference.js';

const HEX = 'a'.repeat(64);

describe('image references (distribution/reference)', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['me/app', 'docker.io/me/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/me/app:2', 'docker.io/me/app:2'],
    ['127.0.0.1:5000/test/app:1', '127.0.0.1:5000/test/app:1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b/c', 'localhost:5000/a/b/c:latest'],
    ['quay.io/podman/stable:v4.3', 'quay.io/podman/stable:v4.3'],
    [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`],
    [`quay.io/x/y:t@sha256:${HEX}`, `quay.io/x/y:t@sha256:${HEX}`],
    ['my-app__x_y/a.b--c', 'docker.io/my-app__x_y/a.b--c:latest'],
    ['Example.COM/app', 'Example.COM/app:latest'],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${want}`, () => {
      assert.equal(normalizeReference(input)._unsafeUnwrap(), want);
    });
  }

  it('splits domain, path, tag and digest', () => {
    const r = parseReference(`127.0.0.1:5000/test/app:1@sha256:${HEX}`)._unsafeUnwrap();
    assert.deepEqual(r, { domain: '127.0.0.1:5000', path: 'test/app', tag: '1', digest: `sha256:${HEX}` });
    assert.equal(formatReference(r), `127.0.0.1:5000/test/app:1@sha256:${HEX}`);
  });

  it('keeps no default tag in the normalized-only form', () => {
    const r = parseNormalizedReference('busybox')._unsafeUnwrap();
    assert.equal(r.tag, undefined);
    const d = parseReference(`busybox@sha256:${HEX}`)._unsafeUnwrap();
    assert.equal(d.tag, undefined);
  });

  it('familiar names drop docker.io and library/', () => {
    assert.equal(familiarReference(parseReference('busybox')._unsafeUnwrap()), 'busybox:latest');
    assert.equal(familiarReference(parseReference('me/app:2')._unsafeUnwrap()), 'me/app:2');
    assert.equal(familiarReference(parseReference('quay.io/a/b')._unsafeUnwrap()), 'quay.io/a/b:latest');
  });

  it('short names name no registry', () => {
    assert.equal(isShortName('busybox'), true);
    assert.equal(isShortName('me/app:1'), true);
    assert.equal(isShortName('localhost/app'), false);
    assert.equal(isShortName('quay.io/a/b'), false);
    assert.equal(isShortName('127.0.0.1:5000/a'), false);
  });

  const bad = [
    '',
    'Busybox',
    'docker.io/Library/busybox',
    HEX,
    'busybox:',
    'busybox:-x',
    `busybox:${'t'.repeat(129)}`,
    'busy box',
    '/busybox',
    'busybox/',
    'a//b',
    'busybox@sha256:abc',
    `busybox@md5:${'a'.repeat(32)}`,
    `busybox@sha256:${'A'.repeat(64)}`,
    `x.io/${'a'.repeat(260)}`,
    'http://docker.io/busybox',
    '-busybox',
    'localhost:port/a',
  ];
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)} with InvalidArg`, () => {
      const r = parseReference(input);
      assert.equal(r.isErr(), true);
      assert.equal(r._unsafeUnwrapErr().code, 'InvalidArg');
    });
  }

  it('refuses non-strings with InvalidArg', () => {
    assert.equal(parseReference(42 as unknown as string)._unsafeUnwrapErr().code, 'InvalidArg');
  });
});

describe('local names (podman NormalizeName)', () => {
  for (const [input, want] of [
    ['myimg', 'localhost/myimg:latest'],
    ['me/app:2', 'localhost/me/app:2'],
    ['localhost/x', 'localhost/x:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['quay.io/a/b:1', 'quay.io/a/b:1'],
    [`quay.io/a/b:1@sha256:${HEX}`, `quay.io/a/b@sha256:${HEX}`],
  ]) {
    it(`${input} -> ${want}`, () => assert.equal(normalizeLocalName(input as string)._unsafeUnwrap(), want));
  }
  it('refuses malformed names with InvalidArg', () => {
    for (const bad of ['', 'My', HEX, 'a:b:c']) assert.equal(normalizeLocalName(bad)._unsafeUnwrapErr().code, 'InvalidArg');
  });
});
