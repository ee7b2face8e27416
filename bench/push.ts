/**
 * The push rows of `bench/images`: the Debian minbase image, loaded from
 * its docker-archive (one uncompressed 128 MB layer, so both engines gzip
 * it while pushing), pushed to a loopback `docker-registry`
 * (test/support/registry.ts) by libpod-ts and by `podman push` in
 * interleaved rounds, each round to fresh registries (nothing to reuse):
 *
 *   push     <= 1.0x podman push (layer gzipped on the fly, config, manifest)
 *   re-push  <= 1.0x podman push of the same image again (every blob present)
 *
 * Both push with their default compression (gzip) over plain HTTP.
 * @module
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { timed, type ImageBenchEnv, type ImageRow } from './image-bench.js';
import { must } from './measure.js';

const IMAGE = 'localhost/debian:bench';

/** Runs the push rows (see the module comment). */
export async function pushBench(env: ImageBenchEnv): Promise<ImageRow[]> {
  const { podman, progress } = env;
  const rt = await env.open('push');
  const registries: TestRegistry[] = [];
  try {
    must(await rt.loadImages(env.archive), 'loadImages');
    const had = await podman(['image', 'exists', IMAGE]).then(
      () => true,
      () => false,
    );
    if (!had) await podman(['load', '-q', '-i', env.archive]);
    const push: ImageRow = { what: 'push (128 MB layer, gzipped on the fly)', ours: [], theirs: [], target: 1.0, peer: 'podman push' };
    const again: ImageRow = { what: 're-push (every blob present)', ours: [], theirs: [], target: 1.0, peer: 'podman push' };
    for (let i = 0; i < env.iterations; i++) {
      progress(`push round ${i + 1}/${env.iterations}`);
      const mine = await startRegistry();
      registries.push(mine);
      const theirsReg = await startRegistry();
      registries.push(theirsReg);
      const dest = (r: TestRegistry): string => `${r.host}/bench/debian:push`;
      const ours = async (): Promise<void> => {
        push.ours.push(await timed(async () => must(await rt.pushImage(IMAGE, dest(mine), { tlsVerify: false }), 'pushImage')));
        again.ours.push(await timed(async () => must(await rt.pushImage(IMAGE, dest(mine), { tlsVerify: false }), 'pushImage again')));
      };
      const theirs = async (): Promise<void> => {
        push.theirs.push(await timed(() => podman(['push', '-q', '--tls-verify=false', IMAGE, `docker://${dest(theirsReg)}`])));
        again.theirs.push(await timed(() => podman(['push', '-q', '--tls-verify=false', IMAGE, `docker://${dest(theirsReg)}`])));
      };
      if (i % 2 === 0) await ours().then(theirs);
      else await theirs().then(ours);
      for (const r of registries.splice(0)) await r.stop();
    }
    return [push, again];
  } finally {
    for (const r of registries) await r.stop();
    await rt.close();
    await rm(join(env.work, 'push'), { recursive: true, force: true });
  }
}
