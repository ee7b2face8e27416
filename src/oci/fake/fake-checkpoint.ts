/**
 * In-memory checkpoint/restore of {@link FakeOciRuntime}, with a small file
 * so code that archives checkpoint images can be tested without CRIU.
 *
 * On-disk layout: `<imagePath>/fake-checkpoint.json`, a {@link FakeCheckpointImage}.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from '../../define/errors.js';
import type { FakeContainer } from './fake-container.js';

/** File name of the image inside the checkpoint directory. */
export const FAKE_CHECKPOINT_FILE = 'fake-checkpoint.json';

/** What a fake checkpoint image records about the process. */
export interface FakeCheckpointImage {
  format: 'libpod-ts-fake-checkpoint';
  version: 1;
  id: string;
  name: string;
  pid: number;
  args: string[];
  ignoredSignals: number[];
  stdin: string;
  tcpEstablished: boolean;
  checkpointedAt: string;
}

/** Writes the image of `c` to `imagePath` (created if needed). Throws on I/O errors. */
export function writeFakeCheckpoint(c: FakeContainer, imagePath: string, tcpEstablished: boolean): void {
  const image: FakeCheckpointImage = {
    format: 'libpod-ts-fake-checkpoint',
    version: 1,
    id: c.id,
    name: c.name,
    pid: c.pid,
    args: [...(c.spec.process?.args ?? [])],
    ignoredSignals: [...c.ignored],
    stdin: c.stdin,
    tcpEstablished,
    checkpointedAt: new Date().toISOString(),
  };
  mkdirSync(imagePath, { recursive: true });
  writeFileSync(join(imagePath, FAKE_CHECKPOINT_FILE), `${JSON.stringify(image, null, 2)}\n`);
}

function isImage(v: unknown): v is FakeCheckpointImage {
  const o = v as Partial<FakeCheckpointImage> | null;
  return (
    typeof o === 'object' && o !== null && o.format === 'libpod-ts-fake-checkpoint' && o.version === 1 &&
    Array.isArray(o.ignoredSignals) && typeof o.stdin === 'string'
  );
}

/** Reads the image in `imagePath`; a missing or foreign one is `OCIRuntime` (as a failed `criu restore`). */
export function readFakeCheckpoint(imagePath: string): Result<FakeCheckpointImage, LibpodError> {
  const file = join(imagePath, FAKE_CHECKPOINT_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return err(libpodError('OCIRuntime', `restoring from ${imagePath}: cannot read checkpoint image ${file}`, e));
  }
  if (!isImage(parsed)) return err(libpodError('OCIRuntime', `restoring from ${imagePath}: ${file} is not a fake checkpoint image`));
  return ok(parsed);
}

/** Gives a restored container what its image recorded. */
export function applyFakeCheckpoint(c: FakeContainer, image: FakeCheckpointImage, imagePath: string): void {
  for (const s of image.ignoredSignals) c.ignored.add(s);
  c.stdin = image.stdin;
  c.restoredFrom = imagePath;
}
