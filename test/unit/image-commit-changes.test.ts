import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverride, parseChanges } from '../../src/image/commit/changes.js';

const parse = (...c: string[]) => parseChanges(c)._unsafeUnwrap();

describe('commit --change (buildah semantics)', () => {
  it('ENV in both forms, with quotes, escapes and expansion of earlier ENVs', () => {
    const o = parse('ENV A=1 B="two words" C=\'$A\'', 'ENV D $A-x', 'env E=${B}\\ z');
    assert.deepEqual(o.Env, ['A=1', 'B=two words', 'C=$A', 'D=1-x', 'E=two words z']);
  });

  it('LABEL pairs and replacing env', () => {
    const o = parse('LABEL a=1 "b c"=2', 'ENV A=1', 'ENV A=2');
    assert.deepEqual(o.Labels, { a: '1', 'b c': '2' });
    assert.deepEqual(o.Env, ['A=2']);
  });

  it('CMD and ENTRYPOINT in JSON and shell forms; ENTRYPOINT alone clears CMD', () => {
    assert.deepEqual(parse('CMD ["echo","hi"]').Cmd, ['echo', 'hi']);
    assert.deepEqual(parse('CMD echo "hi there"').Cmd, ['/bin/sh', '-c', 'echo "hi there"']);
    const e = parse('CMD ["x"]', 'ENTRYPOINT ["/bin/tini"]');
    assert.deepEqual([e.Entrypoint, e.Cmd], [['/bin/tini'], ['x']]);
    const f = parse('ENTRYPOINT top -b');
    assert.deepEqual([f.Entrypoint, f.Cmd], [['/bin/sh', '-c', 'top -b'], undefined]);
  });

  it('WORKDIR relative to the previous one, USER, STOPSIGNAL, EXPOSE, VOLUME, ONBUILD', () => {
    const o = parse('WORKDIR /app', 'WORKDIR sub/', 'USER 1000:1000', 'STOPSIGNAL SIGINT', 'EXPOSE 80 53/udp 8000-8002', 'EXPOSE 80/tcp', 'VOLUME ["/data", "/logs"]', 'VOLUME /x /y', 'ONBUILD RUN x');
    assert.equal(o.WorkingDir, '/app/sub');
    assert.equal(o.User, '1000:1000');
    assert.equal(o.StopSignal, 'SIGINT');
    assert.deepEqual(o.ExposedPorts, ['80/tcp', '53/udp', '8000-8002/tcp']);
    assert.deepEqual(o.Volumes, ['/data', '/logs', '/x', '/y']);
    assert.deepEqual(o.OnBuild, ['RUN x']);
  });

  it('applies as OverrideOCI: env merged, labels/ports/volumes added, cmd pair replaced, stop signal replaced', () => {
    const base = { Env: ['PATH=/bin', 'A=0'], Entrypoint: ['/ep'], Cmd: ['c'], Labels: { x: '1' }, ExposedPorts: { '22/tcp': {} }, StopSignal: 'SIGQUIT', WorkingDir: '/w', User: 'u' };
    const c = applyOverride(base, parse('ENV A=1 B=2', 'CMD ["new"]', 'LABEL y=2', 'EXPOSE 80'));
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=2']);
    assert.equal(c.Entrypoint, undefined);
    assert.deepEqual(c.Cmd, ['new']);
    assert.deepEqual(c.Labels, { x: '1', y: '2' });
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['22/tcp', '80/tcp']);
    assert.equal(c.StopSignal, undefined);
    assert.equal(c.WorkingDir, '/w');
    assert.equal(c.User, 'u');
    const d = applyOverride(base, parse('USER root'));
    assert.deepEqual([d.Entrypoint, d.Cmd], [['/ep'], ['c']]);
  });

  for (const bad of ['RUN echo', 'FROM x', 'ENV', 'ENV =1', 'ENV A', 'USER a b', 'STOPSIGNAL NOPE', 'EXPOSE http', 'EXPOSE 70000', 'EXPOSE 80/icmp', 'WORKDIR', 'ENV A="x', 'VOLUME ""']) {
    it(`refuses ${JSON.stringify(bad)} with InvalidArg`, () => {
      assert.equal(parseChanges([bad])._unsafeUnwrapErr().code, 'InvalidArg');
    });
  }

  it('refuses non-string changes with InvalidArg', () => {
    assert.equal(parseChanges([1 as unknown as string])._unsafeUnwrapErr().code, 'InvalidArg');
    assert.equal(parseChanges('CMD x' as unknown as string[])._unsafeUnwrapErr().code, 'InvalidArg');
  });
});
