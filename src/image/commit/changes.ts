/**
 * podman's `commit --change` instructions, parsed as buildah parses them
 * (a Dockerfile fragment run through imagebuilder's dispatchers into an
 * override config) and applied as buildah's `OverrideOCI` applies it:
 *
 * - `ENV k=v k2="v 2"` or `ENV k v`, `LABEL k=v ...`: quotes and `\`
 *   escapes removed, `$VAR` / `${VAR}` expanded from earlier `ENV` changes.
 * - `CMD` / `ENTRYPOINT`: JSON form `["a","b"]`, else shell form
 *   `/bin/sh -c "<text>"`; an ENTRYPOINT without an explicit CMD clears CMD.
 *   When the changes set either, both replace the image's pair.
 * - `WORKDIR` (relative to the previous one), `USER`, `STOPSIGNAL` (one
 *   word), `EXPOSE 80 53/udp 8000-8002`, `VOLUME /a /b` or JSON, `ONBUILD x`.
 * - Env entries replace same-named ones; labels, ports and volumes are
 *   added; StopSignal becomes the changes' (possibly none), as buildah does.
 *
 * Anything else (unknown instructions, a malformed line) is `InvalidArg`.
 * @module
 */
import { posix } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import { parseSignal } from '../../define/signals.js';
import type { ContainerImageConfig } from '../formats/config.js';

/** The instructions `--change` accepts (podman's ChangeCmds). */
export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

/** What a set of changes overrides. */
export interface ConfigOverride {
  User?: string;
  ExposedPorts?: string[];
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[];
}

class ChangeError extends Error {}

function bad(msg: string): never {
  throw new ChangeError(msg);
}

function lookup(env: readonly string[], name: string): string {
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i] as string;
    if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  }
  return '';
}

/** Shell-like words: quotes, backslash escapes and `$VAR` / `${VAR}` expansion (not inside single quotes). */
export function shellWords(text: string, env: readonly string[]): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const expand = (): string => {
    // at text[i] === '$'
    if (text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end === -1) bad(`missing } in ${JSON.stringify(text)}`);
      const name = text.slice(i + 2, end);
      i = end + 1;
      return lookup(env, name);
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      i += 1;
      return '$';
    }
    i += 1 + m[0].length;
    return lookup(env, m[0]);
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      if (i + 1 < text.length) cur += text[i + 1];
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) bad(`unterminated quote in ${JSON.stringify(text)}`);
      cur += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length) bad(`unterminated quote in ${JSON.stringify(text)}`);
        const d = text[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '"\\$'.includes(text[i + 1] as string)) {
          cur += text[i + 1];
          i += 2;
        } else if (d === '$') cur += expand();
        else {
          cur += d;
          i++;
        }
      }
    } else if (c === '$') cur += expand();
    else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function nameValues(instr: string, rest: string, env: readonly string[]): [string, string][] {
  const first = rest.split(/\s+/, 1)[0] as string;
  if (!first.includes('=')) {
    // legacy form: `ENV key value with spaces`
    const value = rest.slice(first.length).trim();
    if (value === '') bad(`${instr} ${first}: needs a value`);
    return [[shellWords(first, env).join(''), shellWords(value, env).join(' ')]];
  }
  return shellWords(rest, env).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) bad(`${instr}: ${JSON.stringify(w)} is not name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function mergeEnv(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const kv of b) {
    const k = kv.split('=', 1)[0] as string;
    const i = out.findIndex((e) => e.split('=', 1)[0] === k);
    if (i === -1) out.push(kv);
    else out[i] = kv;
  }
  return out;
}

function port(p: string): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  if (!m) bad(`EXPOSE: invalid port ${JSON.stringify(p)}`);
  const [lo, hi] = [Number(m[1]), m[2] === undefined ? undefined : Number(m[2])];
  if (lo < 1 || lo > 65535 || (hi !== undefined && (hi < lo || hi > 65535))) bad(`EXPOSE: port ${JSON.stringify(p)} out of range`);
  return `${m[1]}${m[2] === undefined ? '' : `-${m[2]}`}/${(m[3] ?? 'tcp').toLowerCase()}`;
}

function one(instr: string, rest: string, env: readonly string[]): string {
  const w = shellWords(rest, env);
  if (w.length !== 1) bad(`${instr} requires exactly one argument`);
  return w[0] as string;
}

function applyOne(o: ConfigOverride, state: { cmdSet: boolean }, line: string): void {
  const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(line);
  if (!m) return;
  const instr = (m[1] as string).toUpperCase();
  const rest = m[2] as string;
  const env = o.Env ?? [];
  if (!(CHANGE_INSTRUCTIONS as readonly string[]).includes(instr)) bad(`${JSON.stringify(m[1])} is not a valid change instruction (${CHANGE_INSTRUCTIONS.join(', ')})`);
  if (rest === '' && instr !== 'CMD' && instr !== 'ENTRYPOINT') bad(`${instr} requires at least one argument`);
  switch (instr) {
    case 'ENV':
      for (const [k, v] of nameValues(instr, rest, env)) o.Env = mergeEnv(o.Env ?? [], [`${k}=${v}`]);
      break;
    case 'LABEL':
      o.Labels = { ...o.Labels, ...Object.fromEntries(nameValues(instr, rest, env)) };
      break;
    case 'CMD': {
      const json = jsonArray(rest);
      o.Cmd = json ?? ['/bin/sh', '-c', rest];
      if (rest !== '') state.cmdSet = true;
      break;
    }
    case 'ENTRYPOINT': {
      const json = jsonArray(rest);
      if (json) o.Entrypoint = json;
      else if (rest === '') delete o.Entrypoint;
      else o.Entrypoint = ['/bin/sh', '-c', rest];
      if (!state.cmdSet) delete o.Cmd;
      break;
    }
    case 'WORKDIR': {
      const w = one(instr, rest, env);
      const dir = posix.isAbsolute(w) ? posix.normalize(w) : posix.join('/', o.WorkingDir ?? '', w);
      o.WorkingDir = dir !== '/' ? dir.replace(/\/+$/, '') : dir;
      break;
    }
    case 'USER':
      o.User = one(instr, rest, env);
      break;
    case 'STOPSIGNAL': {
      const s = one(instr, rest, env);
      const r = parseSignal(s);
      if (r.isErr()) bad(`STOPSIGNAL: ${r.error.message}`);
      o.StopSignal = s;
      break;
    }
    case 'EXPOSE':
      for (const p of shellWords(rest, env).map(port)) if (!(o.ExposedPorts ?? []).includes(p)) o.ExposedPorts = [...(o.ExposedPorts ?? []), p];
      break;
    case 'VOLUME': {
      const vols = jsonArray(rest) ?? shellWords(rest, env);
      for (const v of vols.map((x) => x.trim())) {
        if (v === '') bad('VOLUME: a volume can not be an empty string');
        if (!(o.Volumes ?? []).includes(v)) o.Volumes = [...(o.Volumes ?? []), v];
      }
      break;
    }
    case 'ONBUILD':
      o.OnBuild = [...(o.OnBuild ?? []), rest];
      break;
  }
}

/** Parses `changes` (one instruction each) into an override; `InvalidArg` on any bad one. */
export function parseChanges(changes: readonly string[]): Result<ConfigOverride, LibpodError> {
  if (!Array.isArray(changes) || changes.some((c) => typeof c !== 'string')) return err(libpodError('InvalidArg', 'changes must be an array of strings'));
  const o: ConfigOverride = {};
  const state = { cmdSet: false };
  try {
    for (const c of changes) {
      for (const line of c.split('\n')) if (line.trim() !== '' && !line.trim().startsWith('#')) applyOne(o, state, line);
    }
  } catch (e) {
    if (e instanceof ChangeError) return err(libpodError('InvalidArg', `invalid change: ${e.message}`));
    throw e;
  }
  return ok(o);
}

/** Applies an override to an image's runtime config (buildah's OverrideOCI); returns a new object. */
export function applyOverride(config: ContainerImageConfig, o: ConfigOverride): ContainerImageConfig {
  const c: ContainerImageConfig = { ...config };
  if (o.User) c.User = o.User;
  if (o.ExposedPorts?.length) c.ExposedPorts = { ...c.ExposedPorts, ...Object.fromEntries(o.ExposedPorts.map((p) => [p, {}])) };
  if (o.Env?.length) c.Env = mergeEnv(c.Env ?? [], o.Env);
  if (o.Entrypoint?.length || o.Cmd?.length) {
    if (o.Entrypoint?.length) c.Entrypoint = [...o.Entrypoint];
    else delete c.Entrypoint;
    if (o.Cmd?.length) c.Cmd = [...o.Cmd];
    else delete c.Cmd;
  }
  if (o.Volumes?.length) c.Volumes = { ...c.Volumes, ...Object.fromEntries(o.Volumes.map((v) => [v, {}])) };
  if (o.WorkingDir) c.WorkingDir = o.WorkingDir;
  if (o.Labels && Object.keys(o.Labels).length > 0) c.Labels = { ...c.Labels, ...o.Labels };
  if (o.StopSignal) c.StopSignal = o.StopSignal;
  else delete c.StopSignal;
  if (o.OnBuild?.length) c.OnBuild = [...(c.OnBuild ?? []), ...o.OnBuild];
  return c;
}
