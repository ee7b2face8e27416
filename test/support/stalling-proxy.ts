/**
 * Test support: a proxy on 127.0.0.1 in front of a registry that forwards
 * everything, except that the body of a blob GET (a layer) stops after
 * `stallAfter` bytes until {@link StallingProxy.release}: a pull through it
 * is reliably caught mid-layer, however fast or slow the machine is.
 */
import { createServer, request as httpRequest, type ServerResponse } from 'node:http';

/** A running stalling proxy. */
export interface StallingProxy {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  /** Resolves once some blob response has sent `stallAfter` bytes and is held. */
  stalled: Promise<void>;
  /** Lets held and later responses through. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`host:port`) holding blob bodies of more than `minSize` bytes after `stallAfter` bytes. */
export async function stallingProxy(target: string, stallAfter: number, minSize = stallAfter + 1): Promise<StallingProxy> {
  const [thost, tport] = target.split(':');
  let released = false;
  const waiting: (() => void)[] = [];
  let onStall: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const hold = (res: ServerResponse, rest: Buffer[], upstream: NodeJS.ReadableStream): void => {
    onStall();
    waiting.push(() => {
      for (const b of rest) res.write(b);
      upstream.pipe(res);
      upstream.resume();
    });
  };
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const up = httpRequest({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const size = Number(upRes.headers['content-length'] ?? 0);
      if (released || req.method !== 'GET' || !/\/blobs\/sha256:/.test(req.url ?? '') || upRes.statusCode !== 200 || size < minSize) {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      const onData = (c: Buffer): void => {
        if (sent + c.length <= stallAfter) {
          sent += c.length;
          res.write(c);
          return;
        }
        upRes.off('data', onData);
        upRes.pause();
        const head = c.subarray(0, stallAfter - sent);
        sent = stallAfter;
        res.write(head);
        hold(res, [c.subarray(head.length)], upRes);
      };
      upRes.on('data', onData);
      upRes.on('end', () => {
        if (sent < stallAfter) res.end();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    stalled,
    release() {
      released = true;
      for (const w of waiting.splice(0)) w();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
