import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  chooseSeccompProfile,
  DEFAULT_SECCOMP_PROFILE_PATH,
  parseSeccompProfile,
  readSeccompProfile,
  seccompFromProfile,
  type SeccompProfile,
} from '../../src/container/seccomp.js';
import { containerPaths } from '../../src/container/paths.js';
import type { OciSpec } from '../../src/oci/oci-spec-types.js';
import { fakeEngine, must, mustFail, type FakeEngine } from '../support/engine.js';

const PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], includes: {}, excludes: {} },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['breakpoint'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['sync_file_range'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['arm64'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, errno: 'EPERM', excludes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } },
    { names: ['swapon'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errno: 'EINVAL' },
    { names: ['pidfd_getfd'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.6' } },
    { name: 'kcmp', action: 'SCMP_ACT_ALLOW' },
  ],
};

function convert(caps: string[], arch = 'amd64', kernel = '6.1.0-13-amd64', profile: SeccompProfile = PROFILE) {
  const r = seccompFromProfile(profile, { capabilities: caps, arch, kernel });
  if (r.isErr()) assert.fail(`${r.error.code}: ${r.error.message}`);
  assert.ok(r.value);
  return r.value;
}

function rulesFor(s: ReturnType<typeof convert>, name: string) {
  return (s.syscalls ?? []).filter((c) => c.names.includes(name));
}

describe('seccomp profile conversion (containers/common setupSeccomp)', () => {
  it('takes the host architecture and its sub-architectures from archMap, and the default errno', () => {
    const amd = convert([]);
    assert.equal(amd.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(amd.defaultErrnoRet, 38);
    assert.deepEqual(amd.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(convert([], 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.equal(convert([], 'riscv64').architectures, undefined, 'an architecture archMap cannot select: libseccomp decides');
  });

  it('keeps or drops rules by their arches', () => {
    assert.equal(rulesFor(convert([]), 'arch_prctl').length, 1);
    assert.equal(rulesFor(convert([], 'arm64'), 'arch_prctl').length, 0);
    assert.equal(rulesFor(convert([]), 'breakpoint').length, 0);
    assert.equal(rulesFor(convert([], 'arm64'), 'breakpoint').length, 1);
    assert.equal(rulesFor(convert([], 'arm64'), 'sync_file_range').length, 0);
    assert.equal(rulesFor(convert([]), 'sync_file_range').length, 1);
  });

  it('keeps or drops rules by the capabilities of the bounding set (all of includes.caps, any of excludes.caps)', () => {
    const withChroot = rulesFor(convert(['CAP_SYS_CHROOT']), 'chroot');
    assert.deepEqual(withChroot, [{ names: ['chroot'], action: 'SCMP_ACT_ALLOW' }]);
    const without = rulesFor(convert(['CAP_CHOWN']), 'chroot');
    assert.deepEqual(without, [{ names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    assert.equal(rulesFor(convert(['CAP_SYS_ADMIN']), 'bpf').length, 0, 'every included capability is needed');
    assert.equal(rulesFor(convert(['CAP_SYS_ADMIN', 'CAP_BPF']), 'bpf').length, 1);
  });

  it('resolves errno names (they win over errnoRet), keeps args without a zero valueTwo, turns name into names', () => {
    const s = convert([]);
    assert.deepEqual(rulesFor(s, 'socket'), [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 }]);
    assert.deepEqual(rulesFor(s, 'swapon'), [{ names: ['swapon'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    assert.deepEqual(rulesFor(s, 'personality'), [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }]);
    assert.deepEqual(rulesFor(s, 'kcmp'), [{ names: ['kcmp'], action: 'SCMP_ACT_ALLOW' }]);
    assert.deepEqual(rulesFor(s, 'read'), [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }]);
  });

  it('drops a rule whose minKernel is newer than the kernel', () => {
    assert.equal(rulesFor(convert([], 'amd64', '5.4.0-100-generic'), 'pidfd_getfd').length, 0);
    assert.equal(rulesFor(convert([], 'amd64', '5.6.0'), 'pidfd_getfd').length, 1);
    assert.equal(rulesFor(convert([], 'amd64', '10.0.1'), 'pidfd_getfd').length, 1);
  });

  it('refuses a profile with both architectures and archMap, and unknown errno names', () => {
    const both = seccompFromProfile({ ...PROFILE, architectures: ['SCMP_ARCH_X86_64'] }, { capabilities: [], arch: 'amd64' });
    assert.equal(both.isErr() && both.error.code, 'InvalidArg');
    const errno = seccompFromProfile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrno: 'ENOTANERRNO' }, { capabilities: [] });
    assert.equal(errno.isErr() && errno.error.code, 'InvalidArg');
  });

  it('an empty profile means no filter', () => {
    const r = seccompFromProfile({ defaultAction: '' }, { capabilities: [] });
    assert.equal(r._unsafeUnwrap(), undefined);
  });

  it('refuses malformed profiles with InvalidArg', () => {
    const bad: unknown[] = [
      null,
      [],
      { defaultAction: 1 },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'] }] },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [1], action: 'SCMP_ACT_ALLOW' }] },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }] },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: -1, value: 0, op: 'SCMP_CMP_EQ' }] }] },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: 'CAP_SYS_ADMIN' } }] },
      { defaultAction: 'SCMP_ACT_ALLOW', archMap: [{ architecture: 7 }] },
    ];
    for (const b of bad) {
      const r = parseSeccompProfile(b);
      assert.ok(r.isErr(), `accepted ${JSON.stringify(b)}`);
      assert.equal(r.error.code, 'InvalidArg');
    }
  });

  it("converts containers-common's installed profile for podman's default capabilities", { skip: existsSync(DEFAULT_SECCOMP_PROFILE_PATH) ? false : 'containers-common not installed' }, () => {
    const p = readSeccompProfile(DEFAULT_SECCOMP_PROFILE_PATH)._unsafeUnwrap();
    const s = convert(['CAP_CHOWN', 'CAP_SYS_CHROOT'], 'amd64', '6.1.0', p);
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(rulesFor(s, 'read').some((r) => r.action === 'SCMP_ACT_ALLOW'));
    assert.ok(rulesFor(s, 'chroot').every((r) => r.action === 'SCMP_ACT_ALLOW'));
    assert.ok(rulesFor(s, 'bpf').every((r) => r.action === 'SCMP_ACT_ERRNO'), 'no CAP_SYS_ADMIN: bpf stays denied');
  });
});

describe('which profile a container gets (podman specgen)', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libpod-seccomp-'));
    file = join(dir, 'profile.json');
    await writeFile(file, JSON.stringify(PROFILE));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the default profile, none when unconfined or privileged, a given file even when privileged', () => {
    assert.deepEqual(chooseSeccompProfile({}, { path: file })._unsafeUnwrap(), PROFILE);
    assert.equal(chooseSeccompProfile({ seccompProfile: 'unconfined' }, { path: file, required: true })._unsafeUnwrap(), undefined);
    assert.equal(chooseSeccompProfile({ privileged: true }, { path: file })._unsafeUnwrap(), undefined);
    assert.deepEqual(chooseSeccompProfile({ privileged: true, seccompProfile: file }, { path: join(dir, 'none'), required: true })._unsafeUnwrap(), PROFILE);
  });

  it('a missing default profile: no filter where nothing runs, InvalidArg for real processes; a missing given file is InvalidArg', () => {
    assert.equal(chooseSeccompProfile({}, { path: join(dir, 'not-installed.json') })._unsafeUnwrap(), undefined);
    const required = chooseSeccompProfile({}, { path: join(dir, 'not-installed.json'), required: true });
    assert.equal(required.isErr() && required.error.code, 'InvalidArg');
    assert.equal(chooseSeccompProfile({ seccompProfile: 'unconfined' }, { path: join(dir, 'not-installed.json'), required: true })._unsafeUnwrap(), undefined);
    const r = chooseSeccompProfile({ seccompProfile: join(dir, 'missing.json') }, { path: file });
    assert.equal(r.isErr() && r.error.code, 'InvalidArg');
  });
});

describe('seccomp and pids in the spec of a container (fake runtime)', () => {
  let engine: FakeEngine;
  let dir: string;
  let file: string;
  before(async () => {
    engine = await fakeEngine();
    dir = await mkdtemp(join(tmpdir(), 'libpod-seccomp-'));
    file = join(dir, 'profile.json');
    await writeFile(file, JSON.stringify(PROFILE));
    await writeFile(join(dir, 'broken.json'), '{"defaultAction":');
  });
  after(async () => {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function specOf(id: string): Promise<OciSpec> {
    return JSON.parse(await readFile(containerPaths(engine.root, engine.runRoot, id).configJson, 'utf8')) as OciSpec;
  }

  it('a given profile is converted against the container capabilities; pids default to 2048', async () => {
    const c = await engine.create({ seccompProfile: file, capAdd: ['SYS_ADMIN', 'BPF'] });
    await must(c.init());
    const spec = await specOf(c.id);
    const seccomp = spec.linux?.seccomp;
    assert.ok(seccomp, 'the spec has a seccomp filter');
    assert.equal(seccomp.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(seccomp.syscalls?.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ALLOW'));
    assert.ok(seccomp.syscalls?.some((r) => r.names.includes('chroot') && r.action === 'SCMP_ACT_ALLOW'));
    assert.deepEqual(spec.linux?.resources?.pids, { limit: 2048 });
  });

  it("resources.pids replaces the default; 'unconfined' and privileged get no filter", async () => {
    const a = await engine.create({ seccompProfile: 'unconfined', resources: { pids: 10 } });
    await must(a.init());
    assert.equal((await specOf(a.id)).linux?.seccomp, undefined);
    assert.deepEqual((await specOf(a.id)).linux?.resources?.pids, { limit: 10 });
    const b = await engine.create({ privileged: true });
    await must(b.init());
    assert.equal((await specOf(b.id)).linux?.seccomp, undefined);
  });

  it('a bad seccompProfile is InvalidArg at create and creates nothing', async () => {
    for (const seccompProfile of ['relative.json', join(dir, 'missing.json'), join(dir, 'broken.json'), 42, '']) {
      const e = await mustFail(engine.runtime.newContainer({ rootfs: engine.rootfs, command: ['/bin/true'], seccompProfile: seccompProfile as string }));
      assert.equal(e.code, 'InvalidArg');
    }
    const names = (await must(engine.runtime.containers())).map((c) => c.name);
    assert.equal(names.length, 3, 'only the containers of the earlier tests exist');
  });
});
