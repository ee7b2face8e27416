/**
 * Test support: a writable stream that collects what is written to it.
 */
import { PassThrough } from 'node:stream';

/** A stream and what has been written to it so far. */
export function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}
