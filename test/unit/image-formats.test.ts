import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { isLibpodError } from '../../src/define/errors.js';
import { parseImageConfig } from '../../src/image/formats/config.js';
import { chainIds, DigestVerifier, sha256Digest, verifyBytes } from '../../src/image/formats/digest.js';
import { expectImageManifest, parseManifest, serializeDockerManifest } from '../../src/image/formats/manifest.js';
import * as mt from '../../src/image/formats/media-types.js';
import { chooseInstance, parsePlatform, wantedPlatforms } from '../../src/image/formats/platform.js';

const D = (c: string) => `sha256:${c.repeat(64)}` as const;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

async function drain(data: Buffer[], t: DigestVerifier): Promise<unknown> {
  try {
    await pipeline(Readable.from(data), t, new Writable({ write: (_c, _e, cb) => cb() }));
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('digests', () => {
  it('the verifier passes matching data and fails a wrong digest, short or long data with ImageCorrupt', async () => {
    const data = Buffer.from('hello layer');
    const d = sha256Digest(data);
    assert.equal(await drain([data.subarray(0, 5), data.subarray(5)], new DigestVerifier(d, data.length)), undefined);
    for (const [chunks, size] of [
      [[Buffer.from('hello layeR')], data.length],
      [[data.subarray(0, 4)], data.length],
      [[data, Buffer.from('!')], data.length],
      [[data], data.length + 1],
    ] as const) {
      const e = await drain([...chunks], new DigestVerifier(d, size));
      assert.ok(isLibpodError(e));
      assert.equal(e.code, 'ImageCorrupt');
    }
    assert.equal(verifyBytes(data, d, 3)._unsafeUnwrapErr().code, 'ImageCorrupt');
    assert.equal(verifyBytes(data, d).isOk(), true);
  });

  it('chain ids follow the image-spec', () => {
    const [a, b] = [D('a'), D('b')];
    const ids = chainIds([a, b]);
    assert.equal(ids[0], a);
    assert.equal(ids[1], sha256Digest(`${a} ${b}`));
  });
});

describe('manifests', () => {
  const manifest = {
    schemaVersion: 2,
    mediaType: mt.OCI_MANIFEST,
    config: { mediaType: mt.OCI_CONFIG, digest: D('c'), size: 10 },
    layers: [{ mediaType: mt.OCI_LAYER_GZIP, digest: D('1'), size: 100 }],
  };

  it('parses an OCI manifest, and one without mediaType by its shape', () => {
    const p = parseManifest(json(manifest))._unsafeUnwrap();
    assert.equal(p.kind, 'manifest');
    assert.equal(p.digest, sha256Digest(json(manifest)));
    const { mediaType: _omit, ...bare } = manifest;
    const q = parseManifest(json(bare))._unsafeUnwrap();
    assert.equal(q.mediaType, mt.OCI_MANIFEST);
    assert.equal(expectImageManifest(q)._unsafeUnwrap().layers.length, 1);
  });

  it('parses an index and a Docker manifest list', () => {
    const idx = { schemaVersion: 2, mediaType: mt.DOCKER_MANIFEST_LIST, manifests: [{ mediaType: mt.DOCKER_MANIFEST, digest: D('d'), size: 5, platform: { os: 'linux', architecture: 'amd64' } }] };
    const p = parseManifest(json(idx))._unsafeUnwrap();
    assert.equal(p.kind, 'index');
    assert.equal(expectImageManifest(p)._unsafeUnwrapErr().code, 'ImageCorrupt');
  });

  const broken: [string, unknown][] = [
    ['not an object', [1, 2]],
    ['no schemaVersion', { config: manifest.config }],
    ['schemaVersion 3', { ...manifest, schemaVersion: 3 }],
    ['a bad digest', { ...manifest, config: { ...manifest.config, digest: 'sha256:xyz' } }],
    ['an md5 digest', { ...manifest, config: { ...manifest.config, digest: `md5:${'a'.repeat(32)}` } }],
    ['a negative size', { ...manifest, layers: [{ ...manifest.layers[0], size: -1 }] }],
    ['a string size', { ...manifest, layers: [{ ...manifest.layers[0], size: '100' }] }],
    ['layers not an array', { ...manifest, layers: {} }],
    ['manifest with manifests', { ...manifest, manifests: [] }],
    ['index without manifests', { schemaVersion: 2, mediaType: mt.OCI_INDEX }],
    ['docker manifest with OCI config', { ...manifest, mediaType: mt.DOCKER_MANIFEST }],
  ];
  for (const [what, v] of broken) {
    it(`refuses ${what} with ImageCorrupt`, () => {
      assert.equal(parseManifest(json(v))._unsafeUnwrapErr().code, 'ImageCorrupt');
    });
  }

  it('refuses non-JSON and a media type other than the descriptor said', () => {
    assert.equal(parseManifest(Buffer.from('{"schemaVersion":'))._unsafeUnwrapErr().code, 'ImageCorrupt');
    assert.equal(parseManifest(json(manifest), mt.OCI_INDEX)._unsafeUnwrapErr().code, 'ImageCorrupt');
  });

  it('refuses schema 1 as NotImplemented', () => {
    assert.equal(parseManifest(json({ schemaVersion: 1, name: 'x', fsLayers: [] }))._unsafeUnwrapErr().code, 'NotImplemented');
  });

  it('serializes a Docker manifest as c/image generates it', () => {
    const b = serializeDockerManifest({ mediaType: mt.DOCKER_CONFIG, digest: D('c'), size: 3 }, [{ mediaType: mt.DOCKER_LAYER, digest: D('1'), size: 9 }]);
    assert.equal(
      b.toString(),
      `{"schemaVersion":2,"mediaType":"${mt.DOCKER_MANIFEST}","config":{"mediaType":"${mt.DOCKER_CONFIG}","size":3,"digest":"${D('c')}"},"layers":[{"mediaType":"${mt.DOCKER_LAYER}","size":9,"digest":"${D('1')}"}]}`,
    );
  });
});

describe('image configs', () => {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' }, Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 } },
    rootfs: { type: 'layers', diff_ids: [D('1')] },
    history: [{ created_by: 'x' }, { empty_layer: true }],
    container_config: { Hostname: 'kept' },
  };

  it('parses, keeping unknown fields', () => {
    const c = parseImageConfig(json(config))._unsafeUnwrap();
    assert.deepEqual(c.rootfs.diff_ids, [D('1')]);
    assert.deepEqual(c.config?.Cmd, ['sh']);
    assert.equal(c.config?.Entrypoint, undefined);
    assert.deepEqual(c.container_config, { Hostname: 'kept' });
  });

  for (const [what, v] of [
    ['no rootfs', { ...config, rootfs: undefined }],
    ['rootfs type', { ...config, rootfs: { type: 'x', diff_ids: [] } }],
    ['bad diff id', { ...config, rootfs: { type: 'layers', diff_ids: ['nope'] } }],
    ['Env not strings', { ...config, config: { Env: [1] } }],
    ['Labels not strings', { ...config, config: { Labels: { a: 1 } } }],
    ['history not objects', { ...config, history: ['x'] }],
  ] as const) {
    it(`refuses ${what} with ImageCorrupt`, () => {
      assert.equal(parseImageConfig(json(v))._unsafeUnwrapErr().code, 'ImageCorrupt');
    });
  }
});

describe('platforms', () => {
  const entry = (arch: string, variant?: string, c = 'e') => ({
    mediaType: mt.OCI_MANIFEST,
    digest: D(c),
    size: 1,
    platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
  });

  it('parses os/arch[/variant] and refuses the rest with InvalidArg', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8')._unsafeUnwrap(), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    for (const bad of ['linux', 'linux/', 'a/b/c/d', '', 'linux/amd 64']) assert.equal(parsePlatform(bad)._unsafeUnwrapErr().code, 'InvalidArg');
  });

  it('arm variants fall back in c/image order', () => {
    assert.deepEqual(
      wantedPlatforms({ os: 'linux', architecture: 'arm', variant: 'v7' }).map((p) => p.variant),
      ['v7', 'v6', 'v5', ''],
    );
  });

  it('chooses the matching entry, else NoSuchImage', () => {
    const index = { schemaVersion: 2 as const, manifests: [entry('amd64', undefined, 'a'), entry('arm64', 'v8', 'b')] };
    assert.equal(chooseInstance(index, { os: 'linux', architecture: 'amd64', variant: '' })._unsafeUnwrap().digest, D('a'));
    assert.equal(chooseInstance(index, { os: 'linux', architecture: 'arm64', variant: 'v8' })._unsafeUnwrap().digest, D('b'));
    assert.equal(chooseInstance(index, { os: 'linux', architecture: 'arm64', variant: '' })._unsafeUnwrap().digest, D('b'));
    assert.equal(chooseInstance(index, { os: 'linux', architecture: 's390x', variant: '' })._unsafeUnwrapErr().code, 'NoSuchImage');
  });
});
