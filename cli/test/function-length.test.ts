// Issue 15: no function in the TypeScript sources over about 120 lines (a
// long function hides its steps). The one measurement is
// scripts/longest-functions.mjs (the TypeScript parser, from a function's
// first line to its last, nested functions included); this runs it over every
// workspace, as the package-boundaries check beside it reads every package.
import { functionLengths, SOURCE_ROOTS } from '../../scripts/longest-functions.mjs';

const MAX_LINES = 120;

test(`no function in any workspace's sources is longer than ${MAX_LINES} lines`, () => {
  const all = functionLengths(SOURCE_ROOTS) as { lines: number; where: string; name: string }[];
  expect(all.length).toBeGreaterThan(1000); // the parser did find the functions of every package
  expect(all.filter((f) => f.lines > MAX_LINES).map((f) => `${f.where} ${f.name}: ${f.lines} lines`)).toEqual([]);
});
