/**
 * Resolving a container user (`uid`, `uid:gid`, `name`, `name:group`) against
 * the root filesystem's /etc/passwd and /etc/group, as runc's
 * `user.GetExecUser` and podman's `lookup.GetUserGroupInfo` do.
 *
 * The files are read through `secureJoin`, so a symlinked
 * `/etc/passwd` in the rootfs resolves inside the rootfs, never on the host.
 * @module
 */
import { lstatSync, readFileSync } from 'node:fs';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../define/errors.js';
import { secureJoin } from '../util/secure-join.js';

/** A resolved container user. */
export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups (only when the group was not given explicitly, as runc). */
  additionalGids: number[];
  /** Home directory from /etc/passwd (`/` when unknown). */
  home: string;
  /** The user name, when the user was found in /etc/passwd. */
  username?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 0xfffffffe;

function readRootFile(rootfs: string, path: string): string | undefined {
  try {
    const resolved = secureJoin(rootfs, path);
    // a loop resolves to nothing; what it resolves to is read only if it is a file
    if (resolved.isErr() || !lstatSync(resolved.value).isFile()) return undefined;
    return readFileSync(resolved.value, 'utf8');
  } catch {
    return undefined;
  }
}

function parseId(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  if (text === undefined) return [];
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || line.trim().startsWith('#')) continue;
    const uid = parseId(f[2] as string);
    const gid = parseId(f[3] as string);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] as string, uid, gid, home: f[5] || '/' });
  }
  return out;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  if (text === undefined) return [];
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 3 || line.trim().startsWith('#')) continue;
    const gid = parseId(f[2] as string);
    if (gid === undefined) continue;
    out.push({ name: f[0] as string, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

function invalid(message: string): Result<never, LibpodError> {
  return err(libpodError('InvalidArg', message));
}

function resolveUserPart(userArg: string, passwd: PasswdEntry[]): Result<{ uid: number; gid: number; home: string; entry?: PasswdEntry }, LibpodError> {
  const numeric = parseId(userArg);
  const entry = passwd.find((p) => (numeric === undefined ? p.name === userArg : p.uid === numeric));
  if (entry) return ok({ uid: entry.uid, gid: entry.gid, home: entry.home, entry });
  if (numeric !== undefined) return ok({ uid: numeric, gid: 0, home: '/' });
  if (/^-?[0-9]+$/.test(userArg)) return invalid(`invalid user ${JSON.stringify(userArg)}: uid out of range`);
  return invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
}

function resolveGroupPart(groupArg: string, groups: GroupEntry[]): Result<number, LibpodError> {
  const numeric = parseId(groupArg);
  if (numeric !== undefined) return ok(numeric);
  const entry = groups.find((g) => g.name === groupArg);
  if (entry) return ok(entry.gid);
  if (/^-?[0-9]+$/.test(groupArg)) return invalid(`invalid group ${JSON.stringify(groupArg)}: gid out of range`);
  return invalid(`unable to find group ${groupArg}: no matching entries in group file`);
}

/**
 * Resolves `user` (`''`/undefined = root, `uid`, `uid:gid`, `name`,
 * `name:group`) against `<rootfs>/etc/passwd` and `<rootfs>/etc/group`.
 * A numeric uid missing from passwd is used as is (gid 0); an unknown
 * name or group is `InvalidArg`.
 */
export function resolveUser(rootfs: string, user: string | undefined): Result<ExecUser, LibpodError> {
  const spec = user ?? '';
  if (typeof spec !== 'string' || spec.includes('\0') || spec.split(':').length > 2) {
    return invalid(`invalid user ${JSON.stringify(String(spec))}: expected uid[:gid] or name[:group]`);
  }
  const [userArg = '', groupArg = ''] = spec.split(':');
  if (spec.includes(':') && (userArg === '' || groupArg === '')) {
    return invalid(`invalid user ${JSON.stringify(spec)}: expected uid[:gid] or name[:group]`);
  }
  const passwd = parsePasswd(readRootFile(rootfs, '/etc/passwd'));
  const groups = parseGroup(readRootFile(rootfs, '/etc/group'));
  const u = resolveUserPart(userArg === '' ? '0' : userArg, passwd);
  if (u.isErr()) return err(u.error);
  const base = u.value;
  let gid = base.gid;
  let additionalGids: number[] = [];
  if (groupArg !== '') {
    const g = resolveGroupPart(groupArg, groups);
    if (g.isErr()) return err(g.error);
    gid = g.value;
  } else if (base.entry) {
    const name = base.entry.name;
    additionalGids = [...new Set(groups.filter((g) => g.members.includes(name)).map((g) => g.gid))];
  }
  return ok({ uid: base.uid, gid, additionalGids, home: base.home, ...(base.entry ? { username: base.entry.name } : {}) });
}
