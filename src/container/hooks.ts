/**
 * OCI hooks, as libpod's `setupOCIHooks` / `postDeleteHooks` and
 * containers/common's hooks manager (schema 1.0.0):
 *
 * ```json
 * { "version": "1.0.0",
 *   "hook": { "path": "/usr/bin/hook", "args": ["hook", "arg"], "env": ["K=V"], "timeout": 5 },
 *   "when": { "always": true, "annotations": { "^key$": "value" }, "commands": ["^/bin/sh$"], "hasBindMounts": true },
 *   "stages": ["prestart", "poststop"] }
 * ```
 *
 * `*.json` files of the hooks directory are read in name order. A hook
 * matches when any `when` condition holds (regexps match anywhere, as Go's
 * `regexp.MatchString`). The OCI stages go into `spec.hooks` for the runtime
 * to run; the two extension stages are run by the engine: `precreate` hooks
 * filter the spec before create (spec JSON on stdin, new spec JSON on
 * stdout), `poststop` hooks run after the runtime deleted the container.
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, libpodError, type LibpodError } from '../define/errors.js';
import { runCommand } from '../host/command.js';
import type { OciHook, OciHooks, OciSpec } from '../oci/oci-spec-types.js';

/** Every stage a hook file may name: the OCI ones plus libpod's extension stages. */
export const HOOK_STAGES = ['precreate', 'prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** One of {@link HOOK_STAGES}. */
export type HookStage = (typeof HOOK_STAGES)[number];

/** Stages the engine runs itself instead of the OCI runtime. */
const EXTENSION_STAGES: ReadonlySet<HookStage> = new Set(['precreate', 'poststop']);

/** Matched hooks by stage. */
export type HooksByStage = Partial<Record<HookStage, OciHook[]>>;

/** The `when` block of a hook file: any condition that holds selects the hook. */
export interface HookWhen {
  always?: boolean;
  /** Key regexp -> value regexp, matched against the spec's annotations. */
  annotations?: Record<string, string>;
  /** Regexps matched against `process.args[0]`. */
  commands?: string[];
  /** Selects the hook when the container has bind mounts. */
  hasBindMounts?: boolean;
}

/** A parsed, validated hook file. */
export interface HookFile {
  version: '1.0.0';
  hook: OciHook;
  when: HookWhen;
  stages: HookStage[];
}

/** Default seconds a hook may run when its file sets no timeout. */
const DEFAULT_HOOK_TIMEOUT = 60;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function checkRegexps(patterns: string[], what: string): string | undefined {
  for (const p of patterns) {
    try {
      new RegExp(p);
    } catch {
      return `invalid ${what} regexp ${JSON.stringify(p)}`;
    }
  }
  return undefined;
}

function checkHook(h: unknown): string | undefined {
  if (h === null || typeof h !== 'object') return 'missing required property: hook';
  const hook = h as Record<string, unknown>;
  if (typeof hook.path !== 'string' || hook.path === '') return 'missing required property: hook.path';
  if (!isAbsolute(hook.path)) return `hook.path ${JSON.stringify(hook.path)} must be absolute`;
  if (hook.args !== undefined && !isStringArray(hook.args)) return 'hook.args must be an array of strings';
  if (hook.env !== undefined && !isStringArray(hook.env)) return 'hook.env must be an array of strings';
  if (hook.timeout !== undefined && !(typeof hook.timeout === 'number' && Number.isInteger(hook.timeout) && hook.timeout > 0)) {
    return 'hook.timeout must be a positive integer';
  }
  return undefined;
}

function checkWhen(w: unknown): string | undefined {
  if (w === null || typeof w !== 'object') return 'missing required property: when';
  const when = w as Record<string, unknown>;
  if (when.always !== undefined && typeof when.always !== 'boolean') return 'when.always must be a boolean';
  if (when.hasBindMounts !== undefined && typeof when.hasBindMounts !== 'boolean') return 'when.hasBindMounts must be a boolean';
  if (when.commands !== undefined && !isStringArray(when.commands)) return 'when.commands must be an array of strings';
  const ann = when.annotations;
  if (ann !== undefined && (ann === null || typeof ann !== 'object' || !Object.values(ann).every((v) => typeof v === 'string'))) {
    return 'when.annotations must map strings to strings';
  }
  const none = when.always === undefined && when.hasBindMounts === undefined && when.commands === undefined && ann === undefined;
  if (none) return 'no when conditions set (always, annotations, commands, hasBindMounts)';
  const annPatterns = ann ? Object.entries(ann as Record<string, string>).flat() : [];
  return checkRegexps(annPatterns, 'annotation') ?? checkRegexps((when.commands as string[] | undefined) ?? [], 'command');
}

/** Validates the parsed content of a hook file; the error is a reason to report. */
export function parseHookFile(data: unknown): { ok: true; hook: HookFile } | { ok: false; reason: string } {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, reason: 'not a JSON object' };
  const d = data as Record<string, unknown>;
  if (d.version !== '1.0.0') return { ok: false, reason: `unrecognized hook version ${JSON.stringify(d.version)} (expected "1.0.0")` };
  const reason = checkHook(d.hook) ?? checkWhen(d.when);
  if (reason) return { ok: false, reason };
  if (!isStringArray(d.stages) || d.stages.length === 0) return { ok: false, reason: 'missing required property: stages' };
  const unknown = d.stages.find((s) => !(HOOK_STAGES as readonly string[]).includes(s));
  if (unknown !== undefined) return { ok: false, reason: `unknown stage ${JSON.stringify(unknown)}` };
  return { ok: true, hook: { version: '1.0.0', hook: d.hook as OciHook, when: d.when as HookWhen, stages: d.stages as HookStage[] } };
}

/**
 * Reads and validates the `*.json` hook files of `dir`, in name order. A
 * missing directory has no hooks; an invalid file is `InvalidArg` naming it.
 */
export function readHookFiles(dir: string): ResultAsync<{ file: string; hook: HookFile }[], LibpodError> {
  return attempt(async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: { file: string; hook: HookFile }[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const file = join(dir, name);
      if (!(await stat(file)).isFile()) continue;
      let data: unknown;
      try {
        data = JSON.parse(await readFile(file, 'utf8'));
      } catch (e) {
        throw libpodError('InvalidArg', `parsing hook ${JSON.stringify(file)}: ${(e as Error).message}`, e);
      }
      const parsed = parseHookFile(data);
      if (!parsed.ok) throw libpodError('InvalidArg', `parsing hook ${JSON.stringify(file)}: ${parsed.reason}`);
      const target = await stat(parsed.hook.hook.path).catch(() => undefined);
      if (!target?.isFile()) throw libpodError('InvalidArg', `parsing hook ${JSON.stringify(file)}: hook.path ${parsed.hook.hook.path} does not exist or is not a file`);
      out.push({ file, hook: parsed.hook });
    }
    return out;
  }, 'Internal', `reading hooks directory ${dir}`);
}

/** Whether a hook's `when` selects a container with this spec. */
export function hookMatches(when: HookWhen, spec: OciSpec, hasBindMounts: boolean): boolean {
  if (when.always === true) return true;
  if (when.hasBindMounts === true && hasBindMounts) return true;
  const annotations = Object.entries(spec.annotations ?? {});
  for (const [keyPattern, valuePattern] of Object.entries(when.annotations ?? {})) {
    const k = new RegExp(keyPattern);
    const v = new RegExp(valuePattern);
    if (annotations.some(([key, value]) => k.test(key) && v.test(value))) return true;
  }
  const command = spec.process?.args[0];
  if (command !== undefined) return (when.commands ?? []).some((p) => new RegExp(p).test(command));
  return false;
}

/**
 * Selects the hooks of `dir` that match the container, like libpod's hooks
 * manager: the OCI stages are appended to `spec.hooks` (the spec is
 * modified in place), and every matched hook is returned by stage, so the
 * caller runs `precreate` ({@link runPrecreateHooks}) and keeps `poststop`
 * ({@link runPoststopHooks}).
 */
export function selectHooks(dir: string, spec: OciSpec, hasBindMounts: boolean): ResultAsync<HooksByStage, LibpodError> {
  return readHookFiles(dir).map((files) => {
    const byStage: HooksByStage = {};
    for (const { hook } of files) {
      if (!hookMatches(hook.when, spec, hasBindMounts)) continue;
      for (const stage of hook.stages) {
        (byStage[stage] ??= []).push(structuredClone(hook.hook));
        if (EXTENSION_STAGES.has(stage)) continue;
        const hooks: OciHooks = (spec.hooks ??= {});
        (hooks[stage as keyof OciHooks] ??= []).push(structuredClone(hook.hook));
      }
    }
    return byStage;
  });
}

function envObject(env: string[] | undefined): NodeJS.ProcessEnv | undefined {
  if (env === undefined) return undefined;
  const out: NodeJS.ProcessEnv = {};
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function runHook(hook: OciHook, input: string, stage: HookStage): ResultAsync<string, LibpodError> {
  const env = envObject(hook.env);
  return runCommand(hook.path, (hook.args ?? []).slice(1), {
    input,
    timeoutMs: (hook.timeout ?? DEFAULT_HOOK_TIMEOUT) * 1000,
    notFoundCode: 'InvalidArg',
    ...(env ? { env } : {}),
  }).andThen((out) =>
    out.code === 0
      ? okAsync(out.stdout)
      : errAsync(libpodError('OCIRuntime', `${stage} hook ${hook.path} failed with exit status ${out.code}: ${out.stderr.trim()}`)),
  );
}

/**
 * Runs `precreate` hooks in order as spec filters: each gets the spec as
 * JSON on stdin and prints the new spec on stdout. A failing hook is
 * `OCIRuntime`; output that is not a JSON object is `InvalidArg`.
 */
export function runPrecreateHooks(hooks: readonly OciHook[], spec: OciSpec): ResultAsync<OciSpec, LibpodError> {
  return hooks.reduce<ResultAsync<OciSpec, LibpodError>>(
    (acc, hook) =>
      acc.andThen((current) =>
        runHook(hook, JSON.stringify(current), 'precreate').andThen((stdout) => {
          let next: unknown;
          try {
            next = JSON.parse(stdout);
          } catch {
            next = undefined;
          }
          if (next === null || typeof next !== 'object' || Array.isArray(next)) {
            return errAsync(libpodError('InvalidArg', `precreate hook ${hook.path} returned invalid JSON`));
          }
          return okAsync(next as OciSpec);
        }),
      ),
    okAsync(spec),
  );
}

/**
 * Runs `poststop` hooks in order with the container state JSON on stdin.
 * Never fails: the errors of the hooks that failed are returned, in order.
 */
export function runPoststopHooks(hooks: readonly OciHook[], stateJson: string): ResultAsync<LibpodError[], LibpodError> {
  const errors: LibpodError[] = [];
  return hooks
    .reduce<ResultAsync<void, LibpodError>>(
      (acc, hook) =>
        acc.andThen(() =>
          runHook(hook, stateJson, 'poststop')
            .map(() => undefined)
            .orElse((e) => {
              errors.push(e);
              return okAsync(undefined);
            }),
        ),
      okAsync(undefined),
    )
    .map(() => errors);
}
