/**
 * podman's security defaults on real containers (conmon + runc): the default
 * seccomp profile and the pids limit, checked in the kernel, and the
 * generated `linux.seccomp` compared with the one podman writes on this
 * machine (when podman is installed). Root only; ends by asserting that
 * nothing it made is left.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Container, ContainerCreateOptions } from '../../src/index.js';
import { containerPaths } from '../../src/container/paths.js';
import { DEFAULT_SECCOMP_PROFILE_PATH, readSeccompProfile, seccompFromProfile } from '../../src/container/seccomp.js';
import { runChecked, runCommand } from '../../src/host/command.js';
import type { OciSpec } from '../../src/oci/oci-spec-types.js';
import { must } from '../support/engine.js';
import { collect } from './support/shell.js';
import { type TestRoots } from './support/leaks.js';
import { useRealEngine } from './support/real-engine.js';

const root = process.getuid?.() === 0;
const haveProfile = existsSync(DEFAULT_SECCOMP_PROFILE_PATH);
const havePodman = existsSync('/usr/bin/podman');

/** The pids controller's limit of the cgroup `pid` is in (cgroup v1 `pids` hierarchy, or v2). */
async function pidsMax(pid: number): Promise<string> {
  for (const line of (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    if (controllers.split(',').includes('pids')) return (await readFile(`/sys/fs/cgroup/pids${path}/pids.max`, 'utf8')).trim();
    if (controllers === '' && existsSync('/sys/fs/cgroup/cgroup.controllers')) return (await readFile(`/sys/fs/cgroup${path}/pids.max`, 'utf8')).trim();
  }
  throw new Error(`no pids cgroup for ${pid}`);
}

describe('seccomp and pids limit on real containers', { skip: !root && 'needs root' }, () => {
  const engine = useRealEngine('lpts-seccomp-');
  let roots: TestRoots;
  let rootfs: string;

  const create = (opts: Partial<ContainerCreateOptions>): Promise<Container> => engine.create(opts);

  /** Runs `sh -c script` to completion in a new container; its exit code and output. */
  async function run(script: string, opts: Partial<ContainerCreateOptions> = {}): Promise<{ code: number; out: string }> {
    const c = await create({ command: ['/bin/sh', '-c', script], ...opts });
    const out = collect();
    const { done } = await must(c.startAndAttach({ stdout: out.stream, stderr: out.stream }));
    await must(done);
    return { code: await must(c.wait()), out: out.text() };
  }

  before(() => {
    ({ roots, rootfs } = engine);
  });

  it('the default profile filters a container: swapoff is EPERM even with CAP_SYS_ADMIN; unconfined reaches the kernel', { skip: !haveProfile && 'containers-common seccomp.json not installed' }, async () => {
    // swapoff of a regular file: the kernel says EINVAL; podman's profile denies the call (EPERM) for everyone.
    const script = 'grep "^Seccomp:" /proc/self/status; swapoff /etc/passwd';
    const filtered = await run(script, { capAdd: ['SYS_ADMIN'] });
    assert.match(filtered.out, /^Seccomp:\s+2$/m);
    assert.match(filtered.out, /Operation not permitted/);
    const open = await run(script, { capAdd: ['SYS_ADMIN'], seccompProfile: 'unconfined' });
    assert.match(open.out, /^Seccomp:\s+0$/m);
    assert.match(open.out, /Invalid argument/);
    const privileged = await run(script, { privileged: true });
    assert.match(privileged.out, /^Seccomp:\s+0$/m);
  });

  it('a custom profile is applied: its default action answers every call it does not list', async () => {
    const file = join(roots.dir, 'deny-swapoff.json');
    await writeFile(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['swapoff'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const r = await run('swapoff /etc/passwd', { capAdd: ['SYS_ADMIN'], seccompProfile: file });
    assert.match(r.out, /Permission denied/);
  });

  it('the pids cgroup limit is 2048 by default and resources.pids otherwise', async () => {
    const a = await create({});
    const b = await create({ resources: { pids: 64 } });
    await must(a.start());
    await must(b.start());
    assert.equal(await pidsMax((await must(a.inspect())).pid), '2048');
    assert.equal(await pidsMax((await must(b.inspect())).pid), '64');
    await must(a.stop({ timeout: 0 }));
    await must(b.stop({ timeout: 0 }));
  });

  it("writes the seccomp section and pids limit podman writes for the same capabilities", { skip: (!havePodman || !haveProfile) && 'podman or containers-common not installed' }, async () => {
    const pm = join(roots.dir, 'podman');
    await mkdir(pm, { recursive: true });
    const conf = join(pm, 'containers.conf');
    await writeFile(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n');
    const podman = (args: string[]) =>
      runCommand('podman', ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--root', join(pm, 'root'), '--runroot', join(pm, 'run'), ...args], {
        env: { ...process.env, CONTAINERS_CONF: conf },
      });
    const ours = await create({ capAdd: ['AUDIT_WRITE', 'MKNOD', 'NET_RAW'] });
    await must(ours.init());
    const spec = JSON.parse(await readFile(containerPaths(roots.root, roots.runRoot, ours.id).configJson, 'utf8')) as OciSpec;
    const created = await must(podman(['create', '--network', 'none', '--rootfs', rootfs, '--cap-add', 'AUDIT_WRITE,MKNOD,NET_RAW', '/bin/true']));
    const id = created.stdout.trim().split('\n').pop() ?? '';
    try {
      await must(podman(['init', id]));
      const theirs = JSON.parse(await readFile(join(pm, 'root', 'overlay-containers', id, 'userdata', 'config.json'), 'utf8')) as OciSpec;
      assert.deepEqual([...(spec.process?.capabilities?.bounding ?? [])].sort(), [...(theirs.process?.capabilities?.bounding ?? [])].sort());
      assert.deepEqual(spec.linux?.seccomp, theirs.linux?.seccomp);
      assert.deepEqual(spec.linux?.resources?.pids, theirs.linux?.resources?.pids);
      // And the conversion alone, for podman's own capability set.
      const profile = readSeccompProfile(DEFAULT_SECCOMP_PROFILE_PATH)._unsafeUnwrap();
      const converted = seccompFromProfile(profile, { capabilities: theirs.process?.capabilities?.bounding ?? [] });
      assert.deepEqual(converted._unsafeUnwrap(), theirs.linux?.seccomp);
    } finally {
      await podman(['rm', '--force', '--time', '0', id]);
      // containers/storage keeps its overlay directory bind-mounted on itself (once per podman
      // process that opened the store, stacked): podman's mounts, not ours.
      for (let i = 0; i < 10; i++) if ((await runChecked('umount', [join(pm, 'root', 'overlay')])).isErr()) break;
    }
  });
});
