/**
 * Every ```ts snippet of README.md, packages/*\/README.md and docs/*.md is run here, in
 * order, each as its own module (imports of `@porpoise/*` resolve to the workspace sources).
 * When the prose after a snippet ends with "prints:", its stdout (console.log) must equal the
 * ```text block that follows. The clock (Date, and so luxon) is pinned to the instant below,
 * so "now" in the docs is always this one; timers are real.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import {
  extractSnippets,
  markdownFiles,
  normaliseOutput,
  prepareSnippet,
  type Snippet,
  usesRedis,
} from '@porpoise/doctest';
import { redisTargets } from '@porpoise/test-redis';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** The docs' "now": a Tuesday, 12:30 UTC. */
export const DOCS_NOW = new Date('2026-11-24T12:30:00Z');

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = fileURLToPath(new URL('../tmp/snippets/', import.meta.url));

async function runSnippet(snippet: Snippet, redisUrl: string | null): Promise<string> {
  mkdirSync(scratch, { recursive: true });
  const name = `${snippet.file.replace(/[^\w]+/g, '-')}-${snippet.line}.ts`;
  const path = join(scratch, name);
  writeFileSync(path, `${prepareSnippet(snippet.code, { redisUrl })}\nexport {};\n`);
  let out = '';
  const log = console.log;
  console.log = (...args: unknown[]) => {
    out += `${format(...args)}\n`;
  };
  vi.useFakeTimers({ now: DOCS_NOW, toFake: ['Date'] });
  try {
    await import(/* @vite-ignore */ `${pathToFileURL(path).href}?t=${Date.now()}`);
  } finally {
    vi.useRealTimers();
    console.log = log;
  }
  // Kept beside the snippet (tmp/, not committed) to read when a comparison fails.
  writeFileSync(path.replace(/\.ts$/, '.out'), out);
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

const redis = redisTargets().standalone;
const redisUrl = redis ? `redis://${redis.host}:${redis.port}` : null;

for (const file of markdownFiles(root)) {
  const snippets = extractSnippets(file, readFileSync(join(root, file), 'utf8'));
  if (snippets.length === 0) continue;
  describe(relative('.', file), () => {
    for (const snippet of snippets) {
      const title = `line ${snippet.line}${snippet.expected === null ? '' : ' (output compared)'}`;
      if (snippet.skip !== null) {
        it.skip(`${title}: ${snippet.skip}`, () => {});
        continue;
      }
      const needsRedis = usesRedis(snippet.code);
      it.skipIf(needsRedis && redisUrl === null)(title, async () => {
        const out = await runSnippet(snippet, redisUrl);
        if (snippet.expected !== null) expect(normaliseOutput(out)).toBe(normaliseOutput(snippet.expected));
      });
    }
  });
}
