/**
 * The one home of `debug`: namespaced loggers under `libpod:*`.
 * Enable with `DEBUG=libpod:*`.
 * @module
 */
import createDebug from 'debug';

/** A namespaced debug logger (`libpod:<scope>`). */
export type Logger = (formatter: string, ...args: unknown[]) => void;

/** The logger for `scope`, e.g. `logger('oci:conmon')`. */
export function logger(scope: string): Logger {
  return createDebug(`libpod:${scope}`);
}
