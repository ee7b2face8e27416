/**
 * runc's JSON error log (`--log-format=json --log <file>`), one
 * `{"level","msg","time"}` object per line. libpod decodes it after a failed
 * create or exec; we take the last error line's `msg`.
 * @module
 */
import { readFile } from 'node:fs/promises';

/** The `msg` of the last decodable line of `path` (errors preferred); `undefined` when none. */
export async function readOciLog(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let last: string | undefined;
  let lastError: string | undefined;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v = JSON.parse(t) as { level?: unknown; msg?: unknown };
      if (typeof v.msg !== 'string' || v.msg === '') continue;
      last = v.msg;
      if (v.level === 'error' || v.level === 'fatal') lastError = v.msg;
    } catch {
      // a torn line: skip it
    }
  }
  return lastError ?? last;
}
