#!/usr/bin/env node
// The `optifiber` bin: a committed file, so npm links it into
// node_modules/.bin at `npm ci` time. npm skips a bin whose target does not
// exist at install time, and dist/main.js only exists after `npm run build`,
// which made `npx optifiber` fail with "could not determine executable to
// run" in a fresh clone (docs: /work/shared/PLATFORM.md, npm workspaces).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('optifiber: the CLI is not built yet (cli/dist/main.js is missing): run `npm run build` at the repository root.\n');
  process.exit(1);
}
const { main } = await import(cli.href);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`optifiber: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
