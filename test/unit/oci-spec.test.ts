import assert from 'node:assert/strict';
import { defaultContainerConfig } from '../../src/testing/records.js';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerConfig } from '../../src/define/config.js';
import type { OciMount, OciSpec } from '../../src/oci/oci-spec-types.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from '../../src/container/oci-spec-defaults.js';
import { capabilitiesOfMask, parseProcLimits } from '../../src/container/oci-spec-host.js';
import { execProcess, generateSpec, readHostRlimits, type SpecInput } from '../../src/container/oci-spec.js';
import { resolveUser } from '../../src/container/user.js';
import { artifactPath, containerPaths } from '../../src/container/paths.js';

const ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1001:app:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nstaff:x:50:app\nwheel:x:10:app,other\napp:x:1001:\nnogroup:x:65534:\n';
const HOST_RLIMITS = { nofile: { soft: 1024, hard: 20000 }, nproc: { soft: 4096, hard: 2000000 } };
const HOST_CAPS = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');

let dir: string;
let rootfs: string;

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return defaultContainerConfig('test', { rootfs, command: ['/bin/sh', '-c', 'true'], env: {}, ...over });
}

function input(over: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return { id: ID, config: config(over), rootfsPath: rootfs, volumeMounts: [], hostRlimits: HOST_RLIMITS, hostCapabilities: HOST_CAPS, ...extra };
}

function spec(over: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): OciSpec {
  const r = generateSpec(input(over, extra));
  if (r.isErr()) assert.fail(`unexpected error ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function specError(over: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): string {
  const r = generateSpec(input(over, extra));
  assert.ok(r.isErr(), 'expected an error');
  return r.error.code;
}

function mountAt(s: OciSpec, dest: string): OciMount | undefined {
  return s.mounts?.find((m) => m.destination === dest);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'libpod-oci-spec-'));
  rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(join(rootfs, 'etc/group'), GROUP);
  await mkdir(join(dir, 'data'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateSpec defaults', () => {
  it('builds the process as podman does', () => {
    const s = spec();
    const p = s.process!;
    assert.deepEqual(p.args, ['/bin/sh', '-c', 'true']);
    assert.equal(p.cwd, '/');
    assert.equal(p.terminal, false);
    assert.deepEqual(p.user, { uid: 0, gid: 0, username: 'root' });
    assert.ok(p.env!.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
    assert.ok(p.env!.includes(`HOSTNAME=${ID.slice(0, 12)}`));
    assert.ok(p.env!.includes('HOME=/root'));
    assert.ok(!p.env!.some((e) => e.startsWith('TERM=')));
    assert.deepEqual(new Set(p.capabilities!.bounding), new Set(DEFAULT_CAPABILITIES));
    assert.deepEqual(p.capabilities!.effective, p.capabilities!.bounding);
    assert.deepEqual(p.capabilities!.inheritable, []);
    assert.equal(p.noNewPrivileges, true);
    assert.deepEqual(p.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
      { type: 'RLIMIT_NPROC', soft: 1048576, hard: 1048576 },
    ]);
  });

  it('sets root, hostname, namespaces, cgroups path, masked paths and devices', () => {
    const s = spec({ readOnly: true });
    assert.deepEqual(s.root, { path: rootfs, readonly: true });
    assert.equal(s.hostname, ID.slice(0, 12));
    assert.deepEqual(s.linux!.namespaces!.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.equal(s.linux!.cgroupsPath, `/libpod_parent/libpod-${ID}`);
    assert.ok(s.linux!.maskedPaths!.includes('/proc/kcore'));
    assert.ok(s.linux!.readonlyPaths!.includes('/proc/sys'));
    assert.deepEqual(s.linux!.resources!.devices, [{ allow: false, access: 'rwm' }]);
    assert.equal(s.linux!.devices, undefined);
    for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']) assert.ok(mountAt(s, d), d);
    assert.ok(mountAt(s, '/sys')!.options!.includes('ro'));
  });

  it('adds TERM with a terminal, lets env override defaults, honours hostname and cgroup parent', () => {
    const s = spec({ terminal: true, env: { PATH: '/bin', FOO: 'a=b' }, workDir: '/tmp' }, { hostname: 'box', cgroupParent: '/mytool' });
    const env = s.process!.env!;
    assert.ok(env.includes('TERM=xterm'));
    assert.ok(env.includes('PATH=/bin'));
    assert.equal(env.filter((e) => e.startsWith('PATH=')).length, 1);
    assert.ok(env.includes('FOO=a=b'));
    assert.ok(env.includes('HOSTNAME=box'));
    assert.equal(s.process!.terminal, true);
    assert.equal(s.process!.cwd, '/tmp');
    assert.equal(s.hostname, 'box');
    assert.equal(s.linux!.cgroupsPath, `/mytool/libpod-${ID}`);
  });

  it('adds the stdin annotation to the caller annotations', () => {
    assert.deepEqual(spec({ stdin: true, annotations: { a: 'b' } }).annotations, { a: 'b', 'io.libpod-ts.stdin': 'true' });
    assert.deepEqual(spec({ annotations: { a: 'b' } }).annotations, { a: 'b' });
  });

  it('maps resources', () => {
    const r = spec({ resources: { memory: 16 * 1024 * 1024, cpuShares: 512, cpuQuota: 50000, pids: 64 } }).linux!.resources!;
    assert.deepEqual(r.memory, { limit: 16 * 1024 * 1024 });
    assert.deepEqual(r.cpu, { shares: 512, quota: 50000, period: 100000 });
    assert.deepEqual(r.pids, { limit: 64 });
    assert.equal(specError({ resources: { memory: -1 } }), 'InvalidArg');
  });

  it('refuses relative paths', () => {
    assert.equal(specError({}, { rootfsPath: 'rootfs' }), 'InvalidArg');
    assert.equal(specError({ workDir: 'tmp' }), 'InvalidArg');
    assert.equal(specError({ command: [] }), 'InvalidArg');
    assert.equal(specError({ env: { 'A=B': 'x' } }), 'InvalidArg');
  });
});

describe('generateSpec users', () => {
  it('resolves uid, uid:gid, name and name:group', () => {
    assert.deepEqual(spec({ user: 'nobody' }).process!.user, { uid: 65534, gid: 65534, username: 'nobody' });
    assert.deepEqual(spec({ user: '1000' }).process!.user, { uid: 1000, gid: 1001, additionalGids: [50, 10], username: 'app' });
    assert.deepEqual(spec({ user: '4242' }).process!.user, { uid: 4242, gid: 0 });
    assert.deepEqual(spec({ user: '1000:5' }).process!.user, { uid: 1000, gid: 5, username: 'app' });
    assert.deepEqual(spec({ user: 'app:staff' }).process!.user, { uid: 1000, gid: 50, username: 'app' });
    assert.ok(spec({ user: 'app' }).process!.env!.includes('HOME=/home/app'));
  });

  it('refuses unknown names and malformed users', () => {
    assert.equal(specError({ user: 'ghost' }), 'InvalidArg');
    assert.equal(specError({ user: 'app:ghosts' }), 'InvalidArg');
    assert.equal(specError({ user: 'a:b:c' }), 'InvalidArg');
    assert.equal(specError({ user: ':5' }), 'InvalidArg');
  });

  it('reads /etc/passwd through symlinks inside the rootfs only', async () => {
    const other = join(dir, 'rootfs-link');
    await mkdir(join(other, 'etc'), { recursive: true });
    await mkdir(join(other, 'real'), { recursive: true });
    await writeFile(join(other, 'real/passwd'), 'inside:x:777:777::/in:/bin/sh\n');
    await symlink('/real/passwd', join(other, 'etc/passwd'));
    const u = resolveUser(other, 'inside');
    assert.ok(u.isOk());
    assert.equal(u.value.uid, 777);
    assert.equal(resolveUser(other, 'root').isErr(), true, 'the host passwd is never read');
    await symlink('../../../../../../../etc/group', join(other, 'etc/group'));
    const g = resolveUser(other, '0:root');
    assert.ok(g.isErr(), 'a relative link climbing out resolves inside the rootfs');
    assert.equal(g.error.code, 'InvalidArg');
  });

  it('gives a non-root user only the added capabilities', () => {
    const caps = spec({ user: 'app', capAdd: ['NET_RAW'] }).process!.capabilities!;
    assert.ok(caps.bounding!.includes('CAP_NET_RAW'));
    assert.deepEqual(caps.effective, ['CAP_NET_RAW']);
    assert.deepEqual(caps.ambient, ['CAP_NET_RAW']);
    assert.deepEqual(spec({ user: 'app' }).process!.capabilities!.effective, []);
  });
});

describe('generateSpec capabilities', () => {
  it('adds and drops with or without the CAP_ prefix', () => {
    const caps = spec({ capAdd: ['sys_admin', 'CAP_NET_RAW'], capDrop: ['CHOWN'] }).process!.capabilities!.bounding!;
    assert.ok(caps.includes('CAP_SYS_ADMIN'));
    assert.ok(caps.includes('CAP_NET_RAW'));
    assert.ok(!caps.includes('CAP_CHOWN'));
  });

  it('handles ALL', () => {
    assert.deepEqual(spec({ capDrop: ['ALL'], capAdd: ['KILL'] }).process!.capabilities!.bounding, ['CAP_KILL']);
    assert.deepEqual(spec({ capAdd: ['ALL'], capDrop: ['MKNOD'] }).process!.capabilities!.bounding, HOST_CAPS.filter((c) => c !== 'CAP_MKNOD'));
    assert.equal(specError({ capAdd: ['ALL'], capDrop: ['ALL'] }), 'InvalidArg');
  });

  it('refuses unknown capabilities and add+drop of the same one', () => {
    assert.equal(specError({ capAdd: ['CAP_FLY'] }), 'InvalidArg');
    assert.equal(specError({ capDrop: ['bogus'] }), 'InvalidArg');
    assert.equal(specError({ capAdd: ['KILL'], capDrop: ['CAP_KILL'] }), 'InvalidArg');
  });

  it('gives privileged containers everything', () => {
    const s = spec({ privileged: true });
    assert.deepEqual(s.process!.capabilities!.bounding, HOST_CAPS);
    assert.deepEqual(s.process!.capabilities!.effective, HOST_CAPS);
    assert.equal(s.process!.noNewPrivileges, false);
    assert.equal(s.linux!.maskedPaths, undefined);
    assert.equal(s.linux!.readonlyPaths, undefined);
    assert.deepEqual(s.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(s.linux!.devices!.some((d) => d.path === '/dev/null' && d.type === 'c' && d.major === 1 && d.minor === 3));
    assert.ok(mountAt(s, '/sys')!.options!.includes('rw'));
  });
});

describe('generateSpec mounts and namespaces', () => {
  it('adds bind mounts with default options, tmpfs mounts and volumes', () => {
    const data = join(dir, 'data');
    const s = spec(
      {
        mounts: [
          { source: data, destination: '/data', options: ['ro'] },
          { source: '', destination: '/scratch', type: 'tmpfs', options: ['size=1m'] },
        ],
      },
      { volumeMounts: [{ source: data, destination: '/vol', options: [] }] },
    );
    assert.deepEqual(mountAt(s, '/data'), { destination: '/data', type: 'bind', source: data, options: ['rbind', 'rprivate', 'ro'] });
    assert.deepEqual(mountAt(s, '/scratch'), { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] });
    assert.deepEqual(mountAt(s, '/vol'), { destination: '/vol', type: 'bind', source: data, options: ['rbind', 'rprivate'] });
  });

  it('keeps bind/propagation choices, replaces defaults and orders parents first', () => {
    const data = join(dir, 'data');
    const s = spec({
      mounts: [
        { source: data, destination: '/a/b', options: ['bind', 'rshared'] },
        { source: data, destination: '/a' },
        { source: '', destination: '/dev/shm', type: 'tmpfs' },
      ],
    });
    assert.deepEqual(mountAt(s, '/a/b')!.options, ['bind', 'rshared']);
    const dests = s.mounts!.map((m) => m.destination);
    assert.ok(dests.indexOf('/a') < dests.indexOf('/a/b'));
    assert.ok(dests.indexOf('/dev') < dests.indexOf('/dev/shm'));
    assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
    assert.equal(mountAt(s, '/dev/shm')!.source, 'tmpfs');
  });

  it('refuses bad mounts', () => {
    const data = join(dir, 'data');
    assert.equal(specError({ mounts: [{ source: 'data', destination: '/d' }] }), 'InvalidArg');
    assert.equal(specError({ mounts: [{ source: join(dir, 'missing'), destination: '/d' }] }), 'InvalidArg');
    assert.equal(specError({ mounts: [{ source: data, destination: 'd' }] }), 'InvalidArg');
    assert.equal(specError({ mounts: [{ source: data, destination: '/d' }] }, { volumeMounts: [{ source: data, destination: '/d', options: [] }] }), 'InvalidArg');
  });

  it('joins namespaces by path and shares the host network', () => {
    const s = spec({}, { namespacePaths: { net: '/proc/42/ns/net', ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts', cgroup: '/proc/42/ns/cgroup' } });
    const ns = Object.fromEntries(s.linux!.namespaces!.map((n) => [n.type, n.path]));
    assert.deepEqual(ns, { pid: undefined, ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts', mount: undefined, network: '/proc/42/ns/net', cgroup: '/proc/42/ns/cgroup' });
    assert.equal(s.hostname, undefined, 'a joined UTS namespace keeps its hostname');
    const host = spec({ network: 'host' });
    assert.ok(!host.linux!.namespaces!.some((n) => n.type === 'network'));
  });
});

describe('execProcess', () => {
  it('copies the container process with a new command, terminal and env', () => {
    const base = spec({ env: { A: '1' } }).process!;
    const r = execProcess(base, { command: ['ls', '-l'], env: { A: '2', B: '3' }, tty: true, privileged: false, rootfsPath: rootfs });
    assert.ok(r.isOk());
    const p = r.value;
    assert.deepEqual(p.args, ['ls', '-l']);
    assert.equal(p.terminal, true);
    assert.ok(p.env!.includes('A=2'));
    assert.ok(!p.env!.includes('A=1'));
    assert.ok(p.env!.includes('B=3'));
    assert.ok(p.env!.includes('TERM=xterm'));
    assert.deepEqual(p.user, base.user);
    assert.deepEqual(p.capabilities!.bounding, base.capabilities!.bounding);
    assert.deepEqual(base.args, ['/bin/sh', '-c', 'true'], 'the base is not modified');
  });

  it('switches user (HOME follows), working directory and privileges', () => {
    const base = spec().process!;
    const r = execProcess(base, { command: ['id'], user: 'app', workDir: '/tmp', tty: false, privileged: false, rootfsPath: rootfs });
    assert.ok(r.isOk());
    assert.equal(r.value.user.uid, 1000);
    assert.equal(r.value.cwd, '/tmp');
    assert.ok(r.value.env!.includes('HOME=/home/app'));
    assert.deepEqual(r.value.capabilities!.effective, []);
    const priv = execProcess(base, { command: ['id'], tty: false, privileged: true, rootfsPath: rootfs, hostCapabilities: HOST_CAPS });
    assert.ok(priv.isOk());
    assert.deepEqual(priv.value.capabilities!.effective, HOST_CAPS);
    assert.equal(priv.value.noNewPrivileges, false);
  });

  it('refuses bad input', () => {
    const base = spec().process!;
    const code = (r: ReturnType<typeof execProcess>) => (r.isErr() ? r.error.code : 'ok');
    assert.equal(code(execProcess(base, { command: [], tty: false, privileged: false, rootfsPath: rootfs })), 'InvalidArg');
    assert.equal(code(execProcess(base, { command: ['x'], user: 'ghost', tty: false, privileged: false, rootfsPath: rootfs })), 'InvalidArg');
    assert.equal(code(execProcess(base, { command: ['x'], workDir: 'rel', tty: false, privileged: false, rootfsPath: rootfs })), 'InvalidArg');
  });
});

describe('host facts', () => {
  it('parses /proc/self/limits and capability masks', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             96365                96365                processes ',
      'Max open files            1024                 20000                files     ',
    ].join('\n');
    assert.deepEqual(parseProcLimits(text), { nofile: { soft: 1024, hard: 20000 }, nproc: { soft: 96365, hard: 96365 } });
    assert.equal(parseProcLimits('nothing'), undefined);
    assert.deepEqual(capabilitiesOfMask('0000000000000021'), ['CAP_CHOWN', 'CAP_KILL']);
    const own = readHostRlimits();
    assert.ok(own && own.nofile.hard >= own.nofile.soft);
  });
});

describe('paths', () => {
  it('lays out a container', () => {
    const p = containerPaths('/r', '/run', 'abc');
    assert.equal(p.bundlePath, '/r/containers/abc/userdata');
    assert.equal(p.configJson, '/r/containers/abc/userdata/config.json');
    assert.equal(p.logPath, '/r/containers/abc/userdata/ctr.log');
    assert.equal(p.overlayMerged, '/r/containers/abc/overlay/merged');
    assert.equal(p.checkpointDir, '/r/containers/abc/userdata/checkpoint');
    assert.equal(p.runDir, '/run/containers/abc');
  });

  it('refuses artifact names that escape', () => {
    for (const bad of ['', '.', '..', 'a/b', '/etc', 'a\0b']) assert.equal(artifactPath('/x', bad).isErr() && artifactPath('/x', bad)._unsafeUnwrapErr().code, 'InvalidArg', bad);
    assert.equal(artifactPath('/x', 'notes.txt')._unsafeUnwrap(), '/x/notes.txt');
  });
});
