/**
 * Test support: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with a port the kernel picks (read from its log), optionally
 * behind htpasswd Basic auth or Bearer tokens from a test token server;
 * images pushed with skopeo from OCI layouts; and a flaky proxy that fails
 * chosen requests. Everything listens on 127.0.0.1 only; `stop()` ends it.
 */
import { createHash, generateKeyPairSync, createSign, X509Certificate } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, spawnProcess } from '../../src/host/command.js';
import { FakeOciRuntime, MemoryStateStore, Runtime, type RuntimeOptions } from '../../src/index.js';

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** How the registry authenticates. */
export type RegistryAuthMode = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'token'; realm: string; certFile: string };

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await runCommand(cmd, args, { timeoutMs: 120_000, notFoundCode: 'Internal', ...(input !== undefined ? { input } : {}) });
  if (r.isErr()) throw r.error;
  if (r.value.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.value.stderr || r.value.stdout}`);
  return r.value.stdout;
}

/** A bcrypt htpasswd line (python3's crypt module). */
async function htpasswdLine(user: string, password: string): Promise<string> {
  const hash = (
    await run('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))'], password)
  ).trim();
  return `${user}:${hash}\n`;
}

/** Starts a registry; resolves once it listens. */
export async function startRegistry(auth: RegistryAuthMode = { kind: 'none' }): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'libpod-registry-'));
  let authYaml = '';
  if (auth.kind === 'basic') {
    await writeFile(join(dir, 'htpasswd'), await htpasswdLine(auth.username, auth.password));
    authYaml = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth.kind === 'token') {
    authYaml = `auth:\n  token:\n    realm: ${auth.realm}\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: ${auth.certFile}\n`;
  }
  const config = `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: test-secret
${authYaml}`;
  await writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawnProcess('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start: ${log}`)), 20_000);
    const onData = (b: Buffer): void => {
      log += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}): ${log}`));
    });
  });
  // keep draining its output so it never blocks on a full pipe
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `skopeo copy` from an OCI layout (or any skopeo source) to `docker://<dest>` over plain HTTP. */
export async function skopeoPush(src: string, dest: string, creds?: { username: string; password: string }, extra: string[] = []): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', `${creds.username}:${creds.password}`] : []), ...extra, src, `docker://${dest}`]);
}

/** Runs skopeo with `args`, resolving to its stdout. */
export function skopeo(args: string[]): Promise<string> {
  return run('skopeo', args);
}

/** A server on 127.0.0.1 with an ephemeral port. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A proxy in front of a registry: `fail(req)` decides which requests get a 503 instead (or a dropped connection). */
export interface FlakyProxy {
  host: string;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * A proxy to `target` (host:port) on 127.0.0.1; `fail` returns 'ok',
 * a status to answer with, or 'reset' to destroy the socket.
 */
export async function flakyProxy(target: string, fail: (method: string, path: string) => 'ok' | number | 'reset'): Promise<FlakyProxy> {
  const seen: string[] = [];
  const [thost, tport] = target.split(':');
  const s = await listen((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const verdict = fail(req.method ?? 'GET', req.url ?? '/');
    if (verdict === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof verdict === 'number') {
      res.writeHead(verdict, { 'content-type': 'text/plain' });
      res.end('flaky\n');
      return;
    }
    const up = httpRequest({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return { host: `127.0.0.1:${s.port}`, seen, close: s.close };
}

/** A proxy that rewrites the body of one blob (a tampered registry). */
export async function tamperingProxy(target: string, digest: string): Promise<FlakyProxy> {
  const seen: string[] = [];
  const [thost, tport] = target.split(':');
  const s = await listen((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = httpRequest({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      if (req.method === 'GET' && req.url?.endsWith(`/blobs/${digest}`) && upRes.statusCode === 200) {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.concat(chunks);
          body[body.length - 10] = (body[body.length - 10] ?? 0) ^ 0xff;
          res.writeHead(200, { ...upRes.headers, 'content-length': String(body.length) });
          res.end(body);
        });
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return { host: `127.0.0.1:${s.port}`, seen, close: s.close };
}

/** A token server for registry token auth: RS256 JWTs with an x5c header, one user. */
export interface TokenServer {
  realm: string;
  certFile: string;
  /** Token requests seen (their scopes, space-separated). */
  requests: string[];
  close(): Promise<void>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Starts a token server; `dir` receives the certificate the registry trusts. */
export async function startTokenServer(dir: string, user: { username: string; password: string }): Promise<TokenServer> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFile(join(dir, 'token.key'), keyPem);
  const certFile = join(dir, 'token.crt');
  await run('openssl', ['req', '-new', '-x509', '-key', join(dir, 'token.key'), '-out', certFile, '-days', '2', '-subj', '/CN=token']);
  const { readFile } = await import('node:fs/promises');
  const certPem = await readFile(certFile, 'utf8');
  const der = new X509Certificate(certPem).raw;
  const requests: string[] = [];
  const s = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // several scopes (a push that mounts asks pull on the source too) come as several parameters
    const scopes = url.searchParams.getAll('scope');
    requests.push(scopes.join(' '));
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    if (auth !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = {
      iss: 'test-issuer',
      sub: user.username,
      aud: url.searchParams.get('service') ?? 'test-registry',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: createHash('sha256').update(String(Math.random())).digest('hex'),
      access: scopes.flatMap((scope) => {
        const [type, name, actions] = scope.split(':');
        return type && name ? [{ type, name, actions: (actions ?? '').split(',') }] : [];
      }),
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${signingInput}.${b64url(sig)}`, expires_in: 300 }));
  });
  return { realm: `http://127.0.0.1:${s.port}/token`, certFile, requests, close: s.close };
}

/**
 * A Runtime for registry tests: the fake OCI runtime, an in-memory state
 * store and a vfs image store, all below a new temp dir under `parent`.
 */
export async function fakeImageRuntime(parent: string, registries?: RuntimeOptions['registries']): Promise<{ rt: Runtime; base: string; storage: string }> {
  const base = await mkdtemp(join(parent, 'rt-'));
  const storage = join(base, 'storage');
  const rt = (
    await Runtime.open({
      root: join(base, 'root'),
      runRoot: join(base, 'run'),
      store: new MemoryStateStore(),
      ociRuntime: new FakeOciRuntime(),
      storage: { path: storage, driver: 'vfs' },
      ...(registries ? { registries } : {}),
    })
  )._unsafeUnwrap();
  return { rt, base, storage };
}
