/**
 * Any input, never a throw: every public method of Runtime, Container, Pod,
 * Volume and the FakeOciRuntime's scripting helpers, called with a battery
 * of hostile values in each argument, gives an Err with a LibpodError (or,
 * for `logs`, an iterable whose iteration rejects with one): never a throw,
 * never a rejected promise, and the state store and the runtime are as they were.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { join } from 'node:path';
import { Container, ERROR_CODES, FakeOciRuntime, Image, ImageStore, LibpodError, Network, Pod, Runtime, Volume, type StateStore } from '../../src/index.js';
import { layerTar, putTestImage } from '../fixtures/image-layers.js';
import { FakeRuntimeCore } from '../../src/oci/fake/fake-core.js';
import { FakeScripting } from '../../src/oci/fake/fake-scripting.js';
import { fakeEngine, must, type FakeEngine } from '../support/engine.js';

const throwing = (): never => {
  throw new Error('trap');
};
const trapAll: ProxyHandler<object> = {
  get: throwing, has: throwing, ownKeys: throwing, getOwnPropertyDescriptor: throwing, getPrototypeOf: throwing,
  set: throwing, defineProperty: throwing, deleteProperty: throwing, apply: throwing, construct: throwing,
};

function cyclic(): object {
  const a: Record<string, unknown> = { name: 'x' };
  a.self = { back: a };
  return a;
}

function deep(n: number): object {
  let v: object = {};
  for (let i = 0; i < n; i++) v = { v };
  return v;
}

/** Values no method may accept, whatever the argument. */
function battery(): [string, () => unknown][] {
  return [
    ['a Proxy whose traps all throw', () => new Proxy({}, trapAll)],
    ['a Proxy of an array whose traps throw', () => new Proxy([], trapAll)],
    ['a revoked Proxy', () => {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    }],
    ['an object with a throwing getter', () => ({ get timeout(): number { throw new Error('getter'); } })],
    ['an array with a throwing index getter', () => Object.defineProperty(['x'], 0, { get: throwing, enumerable: true })],
    ['a BigInt', () => 10n],
    ['a BigInt inside an object', () => ({ timeout: 10n, env: { A: 1n } })],
    ['a Symbol', () => Symbol('s')],
    ['a cycle', cyclic],
    ['nesting 10000 deep', () => deep(10000)],
    ['an object whose toString throws', () => ({ toString: throwing })],
    ['a Proxy of a stream whose traps throw', () => new Proxy(new PassThrough(), trapAll)],
  ];
}

type Call = (args: unknown[]) => unknown;
interface Target {
  /** How many arguments to fuzz, and valid values for the others. */
  valid: unknown[];
  call: Call;
}

async function outcome(r: unknown): Promise<{ code?: string; threw?: string; ok?: true }> {
  try {
    // (A ResultAsync is async-iterable too, for safeTry: tell them apart by `then`.)
    if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r && typeof (r as { then?: unknown }).then !== 'function' && !('isErr' in r)) {
      try {
        for await (const _ of r as AsyncIterable<unknown>) break;
        return { ok: true };
      } catch (e) {
        return e instanceof LibpodError ? { code: e.code } : { threw: `iteration rejected with a non-LibpodError: ${String(e)}` };
      }
    }
    const settled = (await r) as { isErr?: () => boolean; error?: unknown };
    if (typeof settled?.isErr !== 'function') return { threw: `not a Result: ${typeof settled}` };
    if (!settled.isErr()) return { ok: true };
    return settled.error instanceof LibpodError ? { code: settled.error.code } : { threw: 'Err without a LibpodError' };
  } catch (e) {
    return { threw: `rejected: ${(e as Error)?.message}` };
  }
}

async function dump(store: StateStore, fake: FakeOciRuntime): Promise<string> {
  const kinds = ['container', 'pod', 'volume'] as const;
  const recs = await Promise.all(kinds.map(async (k) => (await must(store.list(k))).map((r) => JSON.stringify(r)).sort()));
  const oci = fake.containers().sort().map((id) => `${id}:${fake.stateOf(id)}:${fake.signalsOf(id).join(',')}`);
  return JSON.stringify({ recs, oci });
}

describe('any input, never a throw: every public method refuses hostile arguments', () => {
  let e: FakeEngine;
  beforeEach(async () => {
    e = await fakeEngine();
  });
  afterEach(async () => {
    await e.dispose();
  });

  async function subjects(): Promise<{ ctr: Container; pod: Pod; vol: Volume; out: PassThrough }> {
    const pod = await must(e.runtime.newPod({ name: 'p' }));
    const vol = await must(e.runtime.newVolume({ name: 'v' }));
    const ctr = await e.create({ name: 'c', volumes: [{ name: 'v', dest: '/data' }] });
    await must(ctr.start());
    return { ctr, pod, vol, out: new PassThrough() };
  }

  it('each argument of each method, with each hostile value', async () => {
    const { ctr, pod, vol, out } = await subjects();
    const imageStore = await must(ImageStore.open(join(e.root, 'storage')));
    const image = await must(e.runtime.lookupImage((await putTestImage(imageStore, [await layerTar([{ name: 'f', content: 'f' }])], { names: ['localhost/img:1'] })).id));
    const rt = e.runtime;
    const fake = e.fake;
    const streams = { stdout: out };
    const targets: Record<string, Target> = {
      'Runtime.open': { valid: [{ root: e.root, runRoot: e.runRoot, store: e.store, ociRuntime: fake }], call: (a) => Runtime.open(a[0] as never) },
      newContainer: { valid: [{ rootfs: e.rootfs, command: ['x'] }], call: (a) => rt.newContainer(a[0] as never) },
      lookupContainer: { valid: ['c'], call: (a) => rt.lookupContainer(a[0] as never) },
      containers: { valid: [{}], call: (a) => rt.containers(a[0] as never) },
      removeContainer: { valid: [ctr, { force: true }], call: (a) => rt.removeContainer(a[0] as never, a[1] as never) },
      'Runtime.batch': { valid: [[ctr], () => 1], call: (a) => rt.batch(a[0] as never, a[1] as never) },
      readEvents: { valid: [{}], call: (a) => rt.readEvents(a[0] as never) },
      newPod: { valid: [{}], call: (a) => rt.newPod(a[0] as never) },
      lookupPod: { valid: ['p'], call: (a) => rt.lookupPod(a[0] as never) },
      pods: { valid: [{}], call: (a) => rt.pods(a[0] as never) },
      removePod: { valid: [pod, { force: true }], call: (a) => rt.removePod(a[0] as never, a[1] as never) },
      newVolume: { valid: [{}], call: (a) => rt.newVolume(a[0] as never) },
      lookupVolume: { valid: ['v'], call: (a) => rt.lookupVolume(a[0] as never) },
      volumes: { valid: [{}], call: (a) => rt.volumes(a[0] as never) },
      removeVolume: { valid: [vol, { force: true }], call: (a) => rt.removeVolume(a[0] as never, a[1] as never) },
      newNetwork: { valid: [{ name: 'n2', dnsServers: ['127.0.0.1'] }], call: (a) => rt.newNetwork(a[0] as never) },
      lookupNetwork: { valid: ['podman'], call: (a) => rt.lookupNetwork(a[0] as never) },
      networks: { valid: [{}], call: (a) => rt.networks(a[0] as never) },
      removeNetwork: { valid: ['n2', { force: true }], call: (a) => rt.removeNetwork(a[0] as never, a[1] as never) },
      images: { valid: [{}], call: (a) => rt.images(a[0] as never) },
      lookupImage: { valid: ['localhost/img:1'], call: (a) => rt.lookupImage(a[0] as never) },
      removeImage: { valid: ['localhost/none:1', { force: true }], call: (a) => rt.removeImage(a[0] as never, a[1] as never) },
      pruneImages: { valid: [{}], call: (a) => rt.pruneImages(a[0] as never) },
      loadImages: { valid: [join(e.root, 'no-such-archive.tar')], call: (a) => rt.loadImages(a[0] as never) },
      saveImages: { valid: [['localhost/img:1'], join(e.root, 'saved.tar'), { format: 'oci-archive' }], call: (a) => rt.saveImages(a[0] as never, a[1] as never, a[2] as never) },
      'Container.commit': { valid: ['localhost/committed:1', { pause: false }], call: (a) => ctr.commit(a[0] as never, a[1] as never) },
      pullImage: { valid: ['localhost/img:1', { policy: 'never' }], call: (a) => rt.pullImage(a[0] as never, a[1] as never) },
      // an aborted signal: a valid call fails before any request
      pushImage: { valid: ['localhost/img:1', '127.0.0.1:9/x/y:1', { tlsVerify: false, signal: AbortSignal.abort() }], call: (a) => rt.pushImage(a[0] as never, a[1] as never, a[2] as never) },
      'Image.tag': { valid: ['localhost/img:2'], call: (a) => image.tag(a[0] as never) },
      'Image.untag': { valid: ['localhost/img:2'], call: (a) => image.untag(a[0] as never) },
      'Container.inspect': { valid: [{}], call: (a) => ctr.inspect(a[0] as never) },
      connect: { valid: ['podman', {}], call: (a) => ctr.connect(a[0] as never, a[1] as never) },
      disconnect: { valid: ['podman', {}], call: (a) => ctr.disconnect(a[0] as never, a[1] as never) },
      'Container.start': { valid: [{}], call: (a) => ctr.start(a[0] as never) },
      startAndAttach: { valid: [streams, {}], call: (a) => ctr.startAndAttach(a[0] as never, a[1] as never) },
      'Container.stop': { valid: [{ timeout: 0 }], call: (a) => ctr.stop(a[0] as never) },
      'Container.kill': { valid: ['SIGKILL'], call: (a) => ctr.kill(a[0] as never) },
      'Container.restart': { valid: [{ timeout: 0 }], call: (a) => ctr.restart(a[0] as never) },
      wait: { valid: [{ interval: 10 }], call: (a) => ctr.wait(a[0] as never) },
      exec: { valid: [['true'], {}], call: (a) => ctr.exec(a[0] as never, a[1] as never) },
      attach: { valid: [streams, {}], call: (a) => ctr.attach(a[0] as never, a[1] as never) },
      attachResize: { valid: [{ width: 80, height: 24 }], call: (a) => ctr.attachResize(a[0] as never) },
      logs: { valid: [{}], call: (a) => ctr.logs(a[0] as never) },
      unmount: { valid: [{ force: true }], call: (a) => ctr.unmount(a[0] as never) },
      'Container.export': { valid: [new PassThrough()], call: (a) => ctr.export(a[0] as never) },
      addArtifact: { valid: ['a', 'data'], call: (a) => ctr.addArtifact(a[0] as never, a[1] as never) },
      getArtifact: { valid: ['a'], call: (a) => ctr.getArtifact(a[0] as never) },
      removeArtifact: { valid: ['a'], call: (a) => ctr.removeArtifact(a[0] as never) },
      'Container.batch': { valid: [() => 1], call: (a) => ctr.batch(a[0] as never) },
      checkpoint: { valid: [{}], call: (a) => ctr.checkpoint(a[0] as never) },
      restore: { valid: [{}], call: (a) => ctr.restore(a[0] as never) },
      'Pod.stop': { valid: [{ timeout: 0 }], call: (a) => pod.stop(a[0] as never) },
      'Pod.kill': { valid: ['SIGKILL'], call: (a) => pod.kill(a[0] as never) },
      'Pod.restart': { valid: [{ timeout: 0 }], call: (a) => pod.restart(a[0] as never) },
      'Volume.export': { valid: [new PassThrough()], call: (a) => vol.export(a[0] as never) },
      'Volume.import': { valid: [new PassThrough()], call: (a) => vol.import(a[0] as never) },
      'fake.exit': { valid: [ctr.id, 0], call: (a) => fake.exit(a[0] as never, a[1] as never) },
      'fake.oom': { valid: [ctr.id], call: (a) => fake.oom(a[0] as never) },
      'fake.emit': { valid: [ctr.id, 'stdout', 'x'], call: (a) => fake.emit(a[0] as never, a[1] as never, a[2] as never) },
      'fake.ignoreSignals': { valid: [ctr.id, []], call: (a) => fake.ignoreSignals(a[0] as never, a[1] as never) },
      'fake.exitExec': { valid: [ctr.id, 'nosession', 0], call: (a) => fake.exitExec(a[0] as never, a[1] as never, a[2] as never) },
      'fake.onExec': { valid: [undefined], call: (a) => fake.onExec(a[0] as never) },
      'fake.onStart': { valid: [undefined], call: (a) => fake.onStart(a[0] as never) },
      'fake.onStdin': { valid: [undefined], call: (a) => fake.onStdin(a[0] as never) },
      'fake.failNext': { valid: ['start'], call: (a) => fake.failNext(a[0] as never, a[1] as never) },
    };

    const before = await dump(e.store, fake);
    const failures: string[] = [];
    for (const [name, t] of Object.entries(targets)) {
      const positions = Math.max(1, t.valid.length + (name === 'fake.failNext' ? 1 : 0));
      for (let pos = 0; pos < positions; pos++) {
        for (const [what, make] of battery()) {
          const args = [...t.valid];
          args[pos] = make();
          let r: unknown;
          try {
            r = t.call(args);
          } catch (err) {
            failures.push(`${name} arg ${pos + 1} ${what}: threw ${(err as Error)?.message}`);
            continue;
          }
          const o = await outcome(r);
          if (o.threw) failures.push(`${name} arg ${pos + 1} ${what}: ${o.threw}`);
          else if (o.ok) failures.push(`${name} arg ${pos + 1} ${what}: accepted`);
          else if (!(ERROR_CODES as readonly string[]).includes(o.code!)) failures.push(`${name} arg ${pos + 1} ${what}: code ${o.code}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(await dump(e.store, fake), before, 'nothing changed');
    assert.equal(await must(ctr.state()), 'running');
  });

  it('wrong types nested in options are InvalidArg, never accepted and ignored', async () => {
    const { ctr, pod } = await subjects();
    const rt = e.runtime;
    const base = { rootfs: e.rootfs, command: ['x'] };
    const cases: [string, () => unknown][] = [
      ['exec env: 42', () => ctr.exec(['true'], { env: 42 } as never)],
      ['exec env value not a string', () => ctr.exec(['true'], { env: { A: 1 } } as never)],
      ['exec user: 0', () => ctr.exec(['true'], { user: 0 } as never)],
      ['exec tty: "yes"', () => ctr.exec(['true'], { tty: 'yes' } as never)],
      ['exec size: { width: 0 }', () => ctr.exec(['true'], { size: { width: 0, height: 1 } } as never)],
      ['exec streams.stdout: {}', () => ctr.exec(['true'], { streams: { stdout: {} } } as never)],
      ['exec streams: unknown key', () => ctr.exec(['true'], { streams: { stdot: new PassThrough() } } as never)],
      ['newContainer labels: { a: 1 }', () => rt.newContainer({ ...base, labels: { a: 1 } } as never)],
      ['newContainer env: Map', () => rt.newContainer({ ...base, env: new Map([['A', 'b']]) } as never)],
      ['newContainer annotations: Date', () => rt.newContainer({ ...base, annotations: new Date() } as never)],
      ['newPod labels: { a: 1 }', () => rt.newPod({ labels: { a: 1 } } as never)],
      ['newVolume labels: { a: 1 }', () => rt.newVolume({ labels: { a: 1 } } as never)],
      ['containers label: { a: 1 }', () => rt.containers({ label: { a: 1 } } as never)],
      ['containers name: 42', () => rt.containers({ name: 42 } as never)],
      ['pods label: { a: 1 }', () => rt.pods({ label: { a: 1 } } as never)],
      ['volumes label: { a: 1 }', () => rt.volumes({ label: { a: 1 } } as never)],
      ['readEvents filter: 42', () => rt.readEvents({ filter: 42 } as never)],
      ['readEvents filter.type: 42', () => rt.readEvents({ filter: { type: 42 } } as never)],
      ['readEvents filter: unknown key', () => rt.readEvents({ filter: { kind: 'container' } } as never)],
      ['readEvents since: a string', () => rt.readEvents({ since: '2020-01-01' } as never)],
      ['inspect size: "yes"', () => ctr.inspect({ size: 'yes' } as never)],
      ['start recursive: 1', () => ctr.start({ recursive: 1 } as never)],
      ['attach detachKeys: 1', () => ctr.attach({ stdout: new PassThrough() }, { detachKeys: 1 } as never)],
      ['unmount force: "yes"', () => ctr.unmount({ force: 'yes' } as never)],
      ['checkpoint keepRunning: "no"', () => ctr.checkpoint({ keepRunning: 'no' } as never)],
      ['restore keepRunning', () => ctr.restore({ keepRunning: true } as never)],
      ['pod stop timeout: 1n-like string', () => pod.stop({ timeout: '1' } as never)],
      ['fake onExec: 42', () => e.fake.onExec(42 as never)],
      ['fake failNext error: 42', () => e.fake.failNext('start', 42 as never)],
      ['fake emit text: 42', () => e.fake.emit(ctr.id, 'stdout', 42 as never)],
    ];
    const before = await dump(e.store, e.fake);
    for (const [what, call] of cases) {
      const o = await outcome(call());
      assert.equal(o.code, 'InvalidArg', `${what}: ${JSON.stringify(o)}`);
    }
    assert.equal(await dump(e.store, e.fake), before, 'nothing changed');
  });

  it('logs with bad options returns an iterable whose iteration rejects with InvalidArg', async () => {
    const { ctr } = await subjects();
    const cases: [string, unknown][] = [['tail -1', { tail: -1 }], ['since string', { since: 'yesterday' }], ['follow 1', { follow: 1 }], ['unknown key', { bogus: true }], ['throwing proxy', new Proxy({}, trapAll)]];
    for (const [what, opts] of cases) {
      assert.equal((await outcome(ctr.logs(opts as never))).code, 'InvalidArg', what);
    }
  });

  it('the table covers every public method (a new method needs a row above)', () => {
    const zeroArg = new Set([
      'close', 'pruneContainers', 'pruneVolumes', 'prunePods', 'pruneNetworks', 'state', 'init', 'pause', 'unpause', 'mount', 'cleanup', 'sync',
      'refresh', 'healthCheck', 'containers', 'status', 'inspect', 'start', 'inUse', 'config', 'dependencies', 'podId', 'mountPoint',
      'history',
    ]);
    const covered = new Set([
      'open', 'newContainer', 'lookupContainer', 'containers', 'removeContainer', 'batch', 'readEvents', 'newPod', 'lookupPod', 'pods',
      'removePod', 'newVolume', 'lookupVolume', 'volumes', 'removeVolume', 'inspect', 'start', 'startAndAttach', 'stop', 'kill',
      'restart', 'wait', 'exec', 'attach', 'attachResize', 'logs', 'unmount', 'export', 'addArtifact', 'getArtifact',
      'removeArtifact', 'checkpoint', 'restore', 'import', 'exit', 'oom', 'emit', 'ignoreSignals', 'exitExec', 'onExec', 'onStart',
      'onStdin', 'failNext', 'newNetwork', 'lookupNetwork', 'networks', 'removeNetwork', 'connect', 'disconnect', 'images', 'lookupImage', 'removeImage',
      'pruneImages', 'pullImage', 'pushImage', 'tag', 'untag', 'loadImages', 'saveImages', 'commit',
    ]);
    const methods = (o: object): string[] =>
      Object.getOwnPropertyNames(o).filter((k) => k !== 'constructor' && typeof Object.getOwnPropertyDescriptor(o, k)?.value === 'function');
    const scripting = ['exit', 'oom', 'emit', 'ignoreSignals', 'exitExec', 'onExec', 'onStart', 'onStdin', 'failNext'];
    const all = [
      ...methods(Runtime).filter((k) => !['length', 'name', 'prototype'].includes(k)),
      ...methods(Runtime.prototype),
      ...methods(Container.prototype),
      ...methods(Pod.prototype),
      ...methods(Volume.prototype),
      ...methods(Network.prototype),
      ...methods(Image.prototype),
      ...[...methods(FakeScripting.prototype), ...methods(FakeRuntimeCore.prototype)].filter((k) => scripting.includes(k)),
    ];
    const missing = all.filter((k) => !covered.has(k) && !zeroArg.has(k));
    assert.deepEqual(missing, []);
  });
});
