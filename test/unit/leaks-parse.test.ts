import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLeaks, formatLeaks, hasLeaks, isUnder, type HostSnapshot } from '../e2e/support/leak-diff.js';
import { diffNet, type NetSnapshot } from '../e2e/support/net-leaks.js';
import {
  ancestorsOf,
  classifyProcesses,
  parseCmdline,
  parseMountInfo,
  parseRuncList,
  parseStat,
  type ProcEntry,
  type TrackedProcess,
} from '../e2e/support/proc-parse.js';

const HOST_NS = 'mnt:[4026531840]';
const CTR_NS = 'mnt:[4026532201]';

/** A `/proc/<pid>/stat` line with the given fields (starttime is field 22). */
function statLine(pid: number, comm: string, state: string, ppid: number, startTime: number): string {
  const middle = Array.from({ length: 17 }, () => '0').join(' ');
  return `${pid} (${comm}) ${state} ${ppid} ${middle} ${startTime} 3133440 382\n`;
}

function proc(pid: number, ppid: number, cmdline: string[], extra: Partial<ProcEntry> = {}): ProcEntry {
  const comm = ((cmdline[0] ?? '').split('/').pop() ?? '').slice(0, 15);
  return { pid, ppid, state: 'S', comm, startTime: 1000 + pid, cmdline, mntNs: HOST_NS, ...extra };
}

describe('parseStat', () => {
  it('reads pid, comm, state, ppid and starttime', () => {
    assert.deepEqual(parseStat(statLine(6085, 'cat', 'R', 6080, 109251)), { pid: 6085, comm: 'cat', state: 'R', ppid: 6080, startTime: 109251 });
  });
  it('keeps spaces and parentheses inside comm', () => {
    const s = parseStat(statLine(42, 'a) (b c)', 'Z', 1, 7));
    assert.equal(s?.comm, 'a) (b c)');
    assert.equal(s?.state, 'Z');
    assert.equal(s?.ppid, 1);
    assert.equal(s?.startTime, 7);
  });
  it('rejects malformed text', () => {
    assert.equal(parseStat(''), undefined);
    assert.equal(parseStat('12 cat R'), undefined);
  });
});

describe('parseCmdline', () => {
  it('splits on NUL and drops the terminator', () => {
    const argv = ['/usr/bin/conmon', '--api-version', '1', '-c', 'abc'];
    assert.deepEqual(parseCmdline(`${argv.join('\0')}\0`), argv);
  });
  it('keeps empty arguments and gives [] for kernel threads', () => {
    assert.deepEqual(parseCmdline('sh\0-c\0\0'), ['sh', '-c', '']);
    assert.deepEqual(parseCmdline(''), []);
  });
});

describe('parseMountInfo', () => {
  const sample = [
    '22 27 0:21 / /proc rw,relatime - proc proc rw',
    '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
    '301 27 0:77 / /tmp/lpts-x/root/with\\040space rw shared:5 master:2 - overlay overlay rw,lowerdir=/a',
    'garbage line',
    '',
  ].join('\n');
  it('parses fields, skips optional fields and malformed lines, unescapes paths', () => {
    const m = parseMountInfo(sample);
    assert.equal(m.length, 3);
    assert.deepEqual(m[1], { id: 36, parentId: 35, root: '/mnt1', mountPoint: '/mnt2', fsType: 'ext3', source: '/dev/root' });
    assert.equal(m[2]?.mountPoint, '/tmp/lpts-x/root/with space');
    assert.equal(m[2]?.fsType, 'overlay');
  });
});

describe('parseRuncList', () => {
  it('reads null and empty output as no containers', () => {
    assert.deepEqual(parseRuncList('null\n'), []);
    assert.deepEqual(parseRuncList(''), []);
  });
  it('reads containers', () => {
    const out = '[{"ociVersion":"1.0.2-dev","id":"abc","pid":123,"status":"running","bundle":"/b","rootfs":"/r","created":"2026-11-22T07:00:00.1Z","owner":"root"}]';
    assert.deepEqual(parseRuncList(out), [{ id: 'abc', pid: 123, status: 'running', bundle: '/b', created: '2026-11-22T07:00:00.1Z' }]);
  });
});

describe('classifyProcesses', () => {
  const table: ProcEntry[] = [
    proc(1, 0, ['/process_api']),
    proc(2, 0, [], { comm: 'kthreadd' }),
    proc(100, 1, ['node', 'test.js']),
    proc(200, 1, ['/usr/bin/conmon', '--api-version', '1', '-b', '/tmp/lpts-a/root/c1']),
    proc(201, 200, ['sh', '-c', 'sleep 100'], { mntNs: CTR_NS }),
    proc(202, 201, ['sleep', '100'], { mntNs: CTR_NS }),
    proc(203, 200, ['runc', 'init'], { comm: 'runc:[2:INIT]' }),
    proc(204, 200, ['/usr/bin/catatonit', '-P'], { mntNs: CTR_NS }),
    proc(300, 1, ['sleep', '5'], { mntNs: CTR_NS }),
    proc(400, 1, ['/usr/bin/conmon', '-c', 'dead'], { state: 'Z' }),
    proc(500, 100, ['/usr/sbin/runc', '--root', '/tmp/lpts-a/run/runc', 'list']),
  ];
  it('finds conmon, runc, catatonit and container processes and ignores zombies', () => {
    const kinds = Object.fromEntries(classifyProcesses(table, HOST_NS).map((p) => [p.pid, p.kind]));
    assert.deepEqual(kinds, { 200: 'conmon', 201: 'container', 202: 'container', 203: 'runc', 204: 'catatonit', 300: 'container', 500: 'runc' });
  });
  it('records ancestors up to pid 1', () => {
    const byPid = new Map(table.map((p) => [p.pid, p]));
    assert.deepEqual(ancestorsOf(202, byPid), [201, 200]);
    assert.deepEqual(ancestorsOf(1, byPid), []);
  });
  it('survives a ppid loop', () => {
    const loop = [proc(10, 11, ['a']), proc(11, 10, ['b'])];
    assert.deepEqual(ancestorsOf(10, new Map(loop.map((p) => [p.pid, p]))), [11]);
  });
});

describe('findLeaks', () => {
  const tracked = (p: ProcEntry, kind: TrackedProcess['kind'], ancestors: number[] = []): TrackedProcess => ({ ...p, kind, ancestors });
  const conmonA = tracked(proc(200, 1, ['/usr/bin/conmon', '-b', '/tmp/lpts-a/root/c1']), 'conmon');
  const childA = tracked(proc(201, 200, ['sleep', '100']), 'container', [200]);
  const conmonB = tracked(proc(210, 1, ['/usr/bin/conmon', '-b', '/tmp/lpts-b/root/c9']), 'conmon');
  const orphan = tracked(proc(300, 1, ['sleep', '5']), 'container');
  const oldConmon = tracked(proc(50, 1, ['/usr/bin/conmon', '-b', '/tmp/lpts-a/root/c0']), 'conmon');
  const mounts = parseMountInfo('22 27 0:21 / /proc rw - proc proc rw\n');
  const before: HostSnapshot = { takenAt: new Date(0), processes: [oldConmon], mounts, runc: { '/tmp/lpts-a/run/runc': [] } };
  const after: HostSnapshot = {
    takenAt: new Date(1),
    processes: [oldConmon, conmonA, childA, conmonB, orphan],
    mounts: parseMountInfo(
      [
        '22 27 0:21 / /proc rw - proc proc rw',
        '301 27 0:77 / /tmp/lpts-a/root/c1/merged rw - overlay overlay rw',
        '302 27 0:78 / /tmp/lpts-b/root/c9/merged rw - overlay overlay rw',
      ].join('\n'),
    ),
    runc: { '/tmp/lpts-a/run/runc': [{ id: 'c1', pid: 201, status: 'running', bundle: '/tmp/lpts-a/root/c1', created: 't1' }] },
  };

  it('reports only what is new and related to the given roots', () => {
    const leaks = findLeaks(before, after, { roots: ['/tmp/lpts-a'], runcRoots: ['/tmp/lpts-a/run/runc'] });
    assert.deepEqual(leaks.processes.map((p) => p.pid).sort((a, b) => a - b), [200, 201, 300]);
    assert.deepEqual(leaks.mounts.map((m) => m.id), [301]);
    assert.deepEqual(leaks.runc.map((r) => r.container.id), ['c1']);
    assert.equal(hasLeaks(leaks), true);
    const text = formatLeaks(leaks, 100);
    for (const needle of ['conmon pid 200', 'container pid 300', '/tmp/lpts-a/root/c1/merged', 'c1 running']) assert.ok(text.includes(needle), needle);
  });
  it("reports every new process with processes: 'all' or without roots", () => {
    assert.deepEqual(findLeaks(before, after, { processes: 'all' }).processes.map((p) => p.pid).sort((a, b) => a - b), [200, 201, 210, 300]);
    assert.equal(findLeaks(before, after).mounts.length, 2);
  });
  it('finds nothing when nothing changed', () => {
    assert.equal(hasLeaks(findLeaks(before, before, { roots: ['/tmp/lpts-a'], runcRoots: ['/tmp/lpts-a/run/runc'] })), false);
  });
  it('tells a reused pid from the original by its start time', () => {
    const reused = { ...before, processes: [oldConmon, { ...conmonA, startTime: 1 }] };
    assert.deepEqual(findLeaks(reused, after, { processes: 'all' }).processes.map((p) => p.pid).sort((a, b) => a - b), [200, 201, 210, 300]);
  });
  it('isUnder matches the directory and below, not siblings with a common prefix', () => {
    assert.equal(isUnder('/tmp/a', '/tmp/a'), true);
    assert.equal(isUnder('/tmp/a/b', '/tmp/a/'), true);
    assert.equal(isUnder('/tmp/ab', '/tmp/a'), false);
    assert.equal(isUnder('/x', '/'), true);
  });
});

describe('network leak diff (pure)', () => {
  const scope = { roots: ['/tmp/lpts-x'], subnets: ['10.89.230.0/24'], bridges: ['lpts230'], ports: [18080] };
  const before: NetSnapshot = { interfaces: ['lo', 'eth0'], masters: {}, rules: ['nat -A OLD 10.89.230.0/24'], aardvark: [{ pid: 5, cmdline: 'aardvark-dns --config /tmp/lpts-x/run/networks/aardvark-dns run' }] };

  it('reports the scope’s bridges, the veths on them, its rules and aardvark-dns processes', () => {
    const now: NetSnapshot = {
      interfaces: ['lo', 'eth0', 'lpts230', 'veth1', 'veth2', 'podman9'],
      masters: { veth1: 'lpts230', veth2: 'podman9' },
      rules: [
        'nat -A OLD 10.89.230.0/24',
        'nat -A POSTROUTING -s 10.89.230.0/24 -j NETAVARK-1',
        'nat -A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 18080 -j NETAVARK-DN-1',
        'nat -A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 180800 -j X',
        'filter -A NETAVARK_FORWARD -s 10.89.99.0/24 -j ACCEPT',
      ],
      aardvark: [
        { pid: 5, cmdline: 'aardvark-dns --config /tmp/lpts-x/run/networks/aardvark-dns run' },
        { pid: 6, cmdline: 'aardvark-dns --config /tmp/lpts-x/run/networks/aardvark-dns run' },
        { pid: 7, cmdline: 'aardvark-dns --config /tmp/other/run/networks/aardvark-dns run' },
      ],
    };
    assert.deepEqual(diffNet(before, now, scope), [
      'interface lpts230',
      'interface veth1',
      'rule nat -A POSTROUTING -s 10.89.230.0/24 -j NETAVARK-1',
      'rule nat -A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 18080 -j NETAVARK-DN-1',
      'aardvark-dns 6: aardvark-dns --config /tmp/lpts-x/run/networks/aardvark-dns run',
    ]);
  });

  it('reports nothing when only others’ state changed', () => {
    const now: NetSnapshot = { interfaces: ['lo', 'eth0', 'veth3', 'podman9'], masters: { veth3: 'podman9' }, rules: before.rules, aardvark: before.aardvark };
    assert.deepEqual(diffNet(before, now, scope), []);
  });
});
