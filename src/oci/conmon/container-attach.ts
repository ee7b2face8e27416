/**
 * Attaching to a created or running container (libpod `Attach`): connect to
 * `<bundle>/attach`, then copy. No replay: output produced before the
 * connection is only in the log, so callers that want it all attach before
 * `start`.
 * @module
 */
import { errAsync, ResultAsync } from 'neverthrow';
import { libpodError, toLibpodError, type LibpodError } from '../../define/errors.js';
import { logger } from '../../util/log.js';
import type { OciAttachRequest, OciAttachSession } from '../oci-runtime.js';
import { createAttachPump, parseDetachKeys } from './attach-copy.js';
import { connectAttach } from './attach-socket.js';

const log = logger('oci:conmon');

/** Connects to the container's attach socket and starts copying. */
export function attachContainer(id: string, req: OciAttachRequest): ResultAsync<OciAttachSession, LibpodError> {
  const { stdin, stdout, stderr } = req.streams;
  if (!stdin && !stdout && !stderr) return errAsync(libpodError('InvalidArg', 'must provide at least one stream to attach to'));
  const keys = parseDetachKeys(req.detachKeys);
  if (keys.isErr()) return errAsync(keys.error);
  const pump = createAttachPump(req.streams, keys.value, req.terminal);
  log('attaching to container %s', id);
  return ResultAsync.fromPromise(connectAttach(req.bundlePath, pump.handlers), (e) => toLibpodError(e, 'OCIRuntime', `attaching to container ${id}`)).map(
    (conn): OciAttachSession => {
      pump.bind(conn);
      return { done: new ResultAsync(pump.done), close: pump.close };
    },
  );
}
