/**
 * Signal names and numbers (Linux x86_64), parsed as podman parses `--signal`.
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { libpodError, type LibpodError } from './errors.js';

/** Linux signal numbers by name (without the `SIG` prefix). */
export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** The highest real-time signal number on Linux. */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** A signal given by name (`'SIGTERM'`, `'TERM'`, `'term'`, `'RTMIN+3'`) or number. */
export type Signal = string | number;

/**
 * Parses a signal name or number into its number; unknown names, 0, negative,
 * non-integer or out-of-range numbers are `InvalidArg`.
 */
export function parseSignal(signal: unknown): Result<number, LibpodError> {
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && signal >= 1 && signal <= SIGRTMAX) return ok(signal);
    return err(libpodError('InvalidArg', `invalid signal: ${signal} is not a signal number between 1 and ${SIGRTMAX}`));
  }
  if (typeof signal !== 'string' || signal.trim() === '') {
    return err(libpodError('InvalidArg', `invalid signal: expected a signal name or number, got ${JSON.stringify(signal)}`));
  }
  const text = signal.trim();
  if (/^\d+$/.test(text)) return parseSignal(Number(text));
  const name = text.toUpperCase().replace(/^SIG/, '');
  const known = SIGNALS[name];
  if (known !== undefined) return ok(known);
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const offset = Number(rt[1] ?? 0);
    const value = name.startsWith('RTMIN') ? SIGRTMIN + offset : SIGRTMAX - offset;
    if (value >= SIGRTMIN && value <= SIGRTMAX) return ok(value);
  }
  return err(libpodError('InvalidArg', `invalid signal: unknown signal "${signal}"`));
}

/** The conventional name of a signal number (`15` → `'SIGTERM'`), or `'SIG<n>'`. */
export function signalName(signal: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) if (num === signal) return `SIG${name}`;
  return `SIG${signal}`;
}
