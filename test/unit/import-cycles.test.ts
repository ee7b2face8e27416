import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The relative modules a file imports or re-exports (type-only imports
 * included: a cycle of types is still a cycle in the design), resolved to
 * .ts paths.
 */
function importsOf(file: string, text: string): string[] {
  const specs = new Set<string>();
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [/\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of noComments.matchAll(re)) specs.add(m[1] as string);
  return [...specs].filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** The cycles of a directed graph, each as a path that returns to its start (one per strongly connected part found). */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('module structure (issue 8 item 13)', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(findCycles(g), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', []]])), []);
    assert.deepEqual(importsOf('/x/a.ts', "import type { T } from './b.js';\nexport { u } from '../c/d.js';\n// import { z } from './no.js';"), ['/x/b.ts', '/c/d.ts']);
  });

  it('has no import cycle anywhere in src/', () => {
    const files = tsFiles(SRC);
    const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
    for (const [f, deps] of graph) for (const d of deps) assert.ok(graph.has(d), `${relative(SRC, f)} imports ${relative(SRC, d)}, which is not a file of src/`);
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' -> '));
    assert.deepEqual(cycles, []);
  });

  it("makes no engine branch on an OCI runtime's name (capabilities are in `features`)", () => {
    const offenders = tsFiles(SRC)
      .filter((f) => !relative(SRC, f).startsWith('oci/'))
      .filter((f) => /\boci\.name\s*[!=]==?/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    assert.deepEqual(offenders, []);
  });

  it("builds libpod's 'container state improper' error in one place (define/errors.ts improper)", () => {
    const offenders = tsFiles(SRC)
      .filter((f) => relative(SRC, f) !== 'define/errors.ts' && readFileSync(f, 'utf8').includes('container state improper'))
      .map((f) => relative(SRC, f));
    assert.deepEqual(offenders, []);
  });

  it('reads /proc/<pid>/mountinfo through one parser (host/mountinfo.ts)', () => {
    const offenders = tsFiles(SRC)
      .filter((f) => relative(SRC, f) !== 'host/mountinfo.ts' && /['"`]\/proc\/[^'"`]*mountinfo/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    assert.deepEqual(offenders, []);
  });
});
