#!/usr/bin/env node
// Lists the longest functions of TypeScript/JavaScript sources (issue 15: "no
// function over about 120 lines"). Every function, method, accessor,
// constructor and arrow function counts with its own lines, nested ones
// included (an outer function's count includes what it nests, as a reader
// sees it).
//
//   node scripts/longest-functions.mjs [--top N] [--max LINES] [<file|dir>...]
//
// With no paths: every workspace's TypeScript sources (SOURCE_ROOTS).
//
// Prints "lines  file:line  name", longest first. With --max, exits 1 when a
// function is longer than LINES (a check for CI or a pre-commit hook).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE = /\.(c|m)?[jt]sx?$/;
function* files(p) {
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'dist') yield* files(join(p, e));
  } else if (SOURCE.test(p) && !p.endsWith('.d.ts')) yield p;
}

function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))) return p.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

/** Every function under `roots`: {lines, where (path:line, relative to cwd), name}, longest first. */
export function functionLengths(roots) {
  const found = [];
  for (const root of roots) {
    for (const f of files(root)) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
          const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
          found.push({ lines: end - start + 1, where: `${relative(process.cwd(), f)}:${start + 1}`, name: nameOf(node, sf) });
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
  }
  return found.sort((a, b) => b.lines - a.lines);
}

/** The TypeScript sources of every workspace (what "no function over ~120 lines" covers). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_ROOTS = ['exporter/src', 'reports/src', 'training/src', 'cli/src', 'mcp-simulator/src', 'grafana-app-remediation/service/src',
  'grafana-app-remediation/src', 'grafana-datasource/src', 'grafana-panel-heatmap/src', 'grafana-common', 'provisioning/src'].map((r) => join(ROOT, r));

function main() {
  const args = process.argv.slice(2);
  let top = 10;
  let max;
  const roots = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else if (args[i] === '--max') max = Number(args[++i]);
    else roots.push(args[i]);
  }
  if (roots.length === 0) roots.push(...SOURCE_ROOTS);

  const found = functionLengths(roots);
  for (const x of found.slice(0, top)) process.stdout.write(`${String(x.lines).padStart(5)}  ${x.where}  ${x.name}\n`);
  if (max !== undefined) {
    const over = found.filter((x) => x.lines > max);
    if (over.length) {
      process.stderr.write(`${over.length} function(s) over ${max} lines\n`);
      process.exit(1);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
