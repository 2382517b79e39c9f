// Issue 15: no function in the exporter's sources over about 120 lines (a
// long function hides its steps). Measured with the TypeScript parser: from
// a function's first line to its last, nested functions included.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_LINES = 120;
const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function functionLengths(file: string): { name: string; lines: number }[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { name: string; lines: number }[] = [];
  const line = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const named = n.name ?? (n.parent as { name?: ts.Node }).name;
      out.push({ name: `${relative(src, file)}:${line(n.getStart()) + 1} ${named ? named.getText() : '<anonymous>'}`, lines: line(n.end) - line(n.getStart()) + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

test(`no function in exporter/src is longer than ${MAX_LINES} lines`, () => {
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
  const all = files.flatMap(functionLengths);
  expect(all.length).toBeGreaterThan(200); // the parser did find the functions
  expect(all.filter((f) => f.lines > MAX_LINES)).toEqual([]);
});
