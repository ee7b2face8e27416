/**
 * The k8s-file log format conmon writes (one record per line):
 * `<RFC3339Nano local time> <stdout|stderr> <P|F> <content>`.
 * `P` marks a partial record: the logical line continues in the next record.
 * @module
 */

/** One record of a k8s-file log. */
export interface K8sLogRecord {
  time: Date;
  /** Nanosecond timestamp text as written (for stable ordering). */
  timestamp: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Formats `date` as conmon does: local time, 9 fractional digits, numeric offset. */
export function formatK8sTimestamp(date: Date, nanos = 0): string {
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const frac = pad(date.getMilliseconds(), 3) + pad(nanos % 1_000_000, 6);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${frac}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * Formats a chunk of output as k8s-file records: one `F` record per complete
 * line and a `P` record for a trailing partial line.
 */
export function formatK8sRecords(stream: 'stdout' | 'stderr', chunk: string, date = new Date()): string {
  if (chunk.length === 0) return '';
  const ts = formatK8sTimestamp(date);
  const parts = chunk.split('\n');
  const last = parts.pop() as string;
  let out = '';
  for (const line of parts) out += `${ts} ${stream} F ${line}\n`;
  if (last.length > 0) out += `${ts} ${stream} P ${last}\n`;
  return out;
}

/** Parses one record line (without its newline); `undefined` for a malformed line. */
export function parseK8sRecord(line: string): K8sLogRecord | undefined {
  const a = line.indexOf(' ');
  if (a < 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const c = line.indexOf(' ', b + 1);
  const timestamp = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? '' : line.slice(c + 1);
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'P' && tag !== 'F')) return undefined;
  const time = new Date(timestamp);
  if (Number.isNaN(time.getTime())) return undefined;
  return { time, timestamp, stream, partial: tag === 'P', text };
}
