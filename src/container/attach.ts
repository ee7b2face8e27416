/**
 * Attach (libpod `Attach`, `StartAndAttach`, `AttachResize`): connect the
 * caller's streams to a created or running container's stdio.
 * @module
 */
import { safe } from '../util/safe.js';
import { errAsync, type ResultAsync } from 'neverthrow';
import { improper, libpodError, type LibpodError } from '../define/errors.js';
import { allows } from '../define/states.js';
import type { AttachEnd, AttachStreams, TerminalSize } from '../define/streams.js';
import type { OciAttachSession } from '../oci/oci-runtime.js';
import { prepareToStart } from './lifecycle.js';
import { startInRuntime } from './runtime-ops.js';
import { pathsOf, queueEvent, type CtrSession } from './session.js';

/** Options of `attach` / `startAndAttach`. */
export interface AttachOptions {
  /** Detach key sequence (default `'ctrl-p,ctrl-q'`; `''` disables). */
  detachKeys?: string;
}

/** What `startAndAttach` resolves to once the container runs. */
export interface AttachHandle {
  /** Settles when the attach ends (output closed, or the caller detached). */
  done: ResultAsync<AttachEnd, LibpodError>;
}

function connect(s: CtrSession, streams: AttachStreams, opts: AttachOptions): ResultAsync<OciAttachSession, LibpodError> {
  return s.ctx.oci.attach(s.rec.id, {
    bundlePath: pathsOf(s).bundlePath,
    streams,
    detachKeys: opts.detachKeys,
    terminal: s.rec.config.terminal,
  });
}

/** Checks the state and connects (the session is then used without the lock). */
export function attachVerb(s: CtrSession, streams: AttachStreams, opts: AttachOptions): ResultAsync<OciAttachSession, LibpodError> {
  if (!allows('attach', s.rec.state.state)) {
    return improper(`can only attach to created or running containers`);
  }
  return connect(s, streams, opts).map((session) => {
    queueEvent(s, 'attach');
    return session;
  });
}

/**
 * Prepares and creates the container, attaches before it starts (so no
 * output is lost), then starts it. A failed runtime start ends the attach
 * and leaves the container `created`, as `start()` does.
 */
export function startAndAttachVerb(s: CtrSession, streams: AttachStreams, opts: AttachOptions & { recursive?: boolean }): ResultAsync<AttachHandle, LibpodError> {
  return prepareToStart(s, opts.recursive ?? false)
    .andThen(() => connect(s, streams, opts))
    .andThen((session) =>
      startInRuntime(s)
        .map((): AttachHandle => {
          queueEvent(s, 'attach');
          return { done: safe(() => session.done) };
        })
        .orElse((e) => {
          session.close();
          return errAsync(e);
        }),
    );
}

/** `attachResize`: created or running containers with a terminal. */
export function resizeVerb(s: CtrSession, size: TerminalSize): ResultAsync<void, LibpodError> {
  if (!allows('resize', s.rec.state.state)) {
    return improper(`can only resize created or running containers`);
  }
  if (!s.rec.config.terminal) {
    return errAsync(libpodError('InvalidArg', `container ${s.rec.id} has no terminal to resize`));
  }
  return s.ctx.oci.resize(s.rec.id, pathsOf(s).bundlePath, size);
}

/** Checks a terminal size given by a caller. */
export function validSize(size: unknown): size is TerminalSize {
  const z = size as TerminalSize;
  return (
    typeof size === 'object' && size !== null &&
    Number.isInteger(z.width) && Number.isInteger(z.height) &&
    z.width > 0 && z.height > 0 && z.width <= 65535 && z.height <= 65535
  );
}
