/**
 * Registry credentials, looked up as c/image's `pkg/docker/config` does:
 * the caller's `auth`; else its `authFile` alone; else, first hit wins,
 * `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `~/.docker/config.json`. In a file, `credHelpers[<registry>]` and then
 * `credsStore` name a `docker-credential-<helper>` program (run with `get`,
 * the registry on stdin); `auths` entries hold `base64(user:password)`.
 * Keys may be a registry (`quay.io`, `https://index.docker.io/v1/`) or a
 * repository namespace (`quay.io/me`): the most specific match wins.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { libpodError } from '../../../define/errors.js';
import { runCommand } from '../../../host/command.js';
import type { Credentials } from './auth.js';

/** Where to look for credentials. */
export interface CredentialSources {
  auth?: Credentials;
  authFile?: string;
  /** Environment to read `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `HOME` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The auth files to read, in order. */
export function authFilePaths(src: CredentialSources): string[] {
  if (src.authFile !== undefined) return [src.authFile];
  const env = src.env ?? process.env;
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  out.push(join(env.HOME || homedir(), '.docker', 'config.json'));
  return out;
}

/** `https://index.docker.io/v1/` → `docker.io`; `quay.io/me/` → `quay.io/me`. */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (k === 'index.docker.io/v1' || k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  if (k.startsWith('index.docker.io/')) k = `docker.io/${k.slice('index.docker.io/'.length)}`;
  return k;
}

/** Keys for `domain/path`, most specific first: `quay.io/a/b`, `quay.io/a`, `quay.io`. */
function candidateKeys(domain: string, path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = parts.length; i > 0; i--) out.push(`${domain}/${parts.slice(0, i).join('/')}`);
  out.push(domain);
  return out;
}

async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw libpodError('InvalidArg', `reading auth file ${path}: ${(e as Error).message}`, e);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as AuthFile;
  } catch (e) {
    throw libpodError('InvalidArg', `auth file ${path} is not valid JSON: ${(e as Error).message}`, e);
  }
}

function decodeEntry(entry: NonNullable<AuthFile['auths']>[string], where: string): Credentials | undefined {
  if (typeof entry?.identitytoken === 'string' && entry.identitytoken !== '') return { username: '<token>', password: entry.identitytoken };
  if (typeof entry?.auth === 'string' && entry.auth !== '') {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i <= 0) throw libpodError('InvalidArg', `${where}: "auth" is not base64 of user:password`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof entry?.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return undefined;
}

async function fromHelper(helper: string, server: string): Promise<Credentials | undefined> {
  if (!/^[\w.-]+$/.test(helper)) throw libpodError('InvalidArg', `credential helper name ${JSON.stringify(helper)} is not valid`);
  const r = await runCommand(`docker-credential-${helper}`, ['get'], { input: server, timeoutMs: 30_000, notFoundCode: 'InvalidArg' });
  if (r.isErr()) throw r.error;
  if (r.value.code !== 0) {
    if (/credentials not found/i.test(r.value.stdout + r.value.stderr)) return undefined;
    throw libpodError('Registry', `docker-credential-${helper} get ${server}: ${(r.value.stderr || r.value.stdout).trim()}`);
  }
  try {
    const v = JSON.parse(r.value.stdout) as { Username?: unknown; Secret?: unknown };
    if (typeof v.Username !== 'string' || typeof v.Secret !== 'string') return undefined;
    return { username: v.Username, password: v.Secret };
  } catch (e) {
    throw libpodError('Registry', `docker-credential-${helper}: output is not JSON`, e);
  }
}

/** The credentials for repository `path` on `domain`, or undefined (anonymous). */
export async function findCredentials(src: CredentialSources, domain: string, path: string): Promise<Credentials | undefined> {
  if (src.auth !== undefined) return src.auth;
  const keys = candidateKeys(domain, path);
  for (const file of authFilePaths(src)) {
    const f = await readAuthFile(file);
    if (!f) continue;
    const helpers = new Map(Object.entries(f.credHelpers ?? {}).map(([k, v]) => [normalizeAuthKey(k), v]));
    const helper = helpers.get(domain);
    if (typeof helper === 'string') return fromHelper(helper, domain);
    const auths = new Map(Object.entries(f.auths ?? {}).map(([k, v]) => [normalizeAuthKey(k), v]));
    for (const k of keys) {
      const entry = auths.get(k);
      if (entry === undefined) continue;
      const c = decodeEntry(entry, `${file} auths.${k}`);
      if (c) return c;
    }
    if (typeof f.credsStore === 'string' && f.credsStore !== '') {
      const c = await fromHelper(f.credsStore, domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain);
      if (c) return c;
    }
  }
  return undefined;
}
