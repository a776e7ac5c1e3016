/**
 * `tsx tools/doctest/src/write-snippets.ts <dir>`: writes the docs' snippets into `<dir>` for
 * a type check (tests/docs runs it before `tsc` in its `typecheck` script).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSnippetFiles } from './files.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = process.argv[2];
if (!dir) {
  console.error('usage: write-snippets.ts <dir>');
  process.exit(2);
}
const written = writeSnippetFiles(root, resolve(dir));
console.log(`doctest: wrote ${written.length} snippets to ${dir}`);
