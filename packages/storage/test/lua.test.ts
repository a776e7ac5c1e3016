import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REDIS_CHUNK_BITS, SPARSE_LIMIT } from '../src/redis/chunks.js';

const root = new URL('..', import.meta.url);

describe('the Lua sources', () => {
  it('are what src/redis/lua/scripts.ts was generated from', () => {
    expect(() =>
      execFileSync(process.execPath, ['scripts/build-lua.mjs', '--check'], { cwd: root, stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('use the chunk layout of src/redis/chunks.ts', () => {
    const bitmap = readFileSync(new URL('lua/includes/bitmap.lua', root), 'utf8');
    expect(/^local CHUNK_BITS = (\d+)$/m.exec(bitmap)?.[1]).toBe(String(REDIS_CHUNK_BITS));
    expect(/^local SPARSE_LIMIT = (\d+)$/m.exec(bitmap)?.[1]).toBe(String(SPARSE_LIMIT));
  });
});
