import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractSnippets } from './extract.ts';

/** The Markdown files whose snippets are tested: the root README, every package's, docs/*.md. */
export function markdownFiles(root: string): string[] {
  const files = ['README.md'];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    if (existsSync(join(root, 'packages', dir, 'README.md'))) files.push(`packages/${dir}/README.md`);
  }
  for (const name of readdirSync(join(root, 'docs')).sort()) {
    if (name.endsWith('.md')) files.push(`docs/${name}`);
  }
  return files;
}

/**
 * Writes every runnable snippet as `<dir>/<file>-<line>.ts` (line L of `README-md-213.ts` is
 * line 213 + L of README.md), so `tsc` can check them with the repository's settings. Returns
 * the files written.
 */
export function writeSnippetFiles(root: string, dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const file of markdownFiles(root)) {
    for (const snippet of extractSnippets(file, readFileSync(join(root, file), 'utf8'))) {
      if (snippet.skip !== null) continue;
      const path = join(dir, `${file.replace(/[^\w]+/g, '-')}-${snippet.line}.ts`);
      writeFileSync(path, `${snippet.code}\nexport {};\n`);
      written.push(path);
    }
  }
  return written;
}
