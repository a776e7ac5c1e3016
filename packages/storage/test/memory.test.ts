import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../src/index.js';
import { runBackendConformance, runNamespaceIsolation } from '../src/testing/index.js';

runBackendConformance('memory', () => new MemoryBackend());
runNamespaceIsolation('two memory backends', async () => [new MemoryBackend(), new MemoryBackend()]);

describe('MemoryBackend specifics', () => {
  it('expires a key exactly when its clock passes the deadline', async () => {
    let now = 1_000;
    const backend = new MemoryBackend({ now: () => now });
    await backend.write([
      { op: 'set', key: 'k', value: 'v' },
      { op: 'expire', key: 'k', seconds: 10 },
    ]);
    now = 10_999;
    expect(
      await backend.read([
        { op: 'get', key: 'k' },
        { op: 'ttl', key: 'k' },
      ]),
    ).toEqual(['v', 1]);
    now = 11_000;
    expect(await backend.read([{ op: 'get', key: 'k' }])).toEqual([null]);
    expect(await backend.keys()).toEqual([]);
  });

  it('never lets a returned bitmap or map change with the store', async () => {
    const backend = new MemoryBackend();
    await backend.write([
      { op: 'setBits', key: 'b', offsets: [1] },
      { op: 'increment', key: 'h', increments: [['f', 1]] },
    ]);
    const [bitmap, map] = await backend.read([
      { op: 'bitmap', expr: { op: 'key', key: 'b' } },
      { op: 'hashGetAll', key: 'h' },
    ]);
    await backend.write([
      { op: 'setBits', key: 'b', offsets: [2] },
      { op: 'increment', key: 'h', increments: [['f', 1]] },
    ]);
    expect(bitmap.toArray()).toEqual([1]);
    expect(map.get('f')).toBe(1);
  });

  it('rejects every call after close', async () => {
    const backend = new MemoryBackend();
    await backend.close();
    await expect(backend.read([{ op: 'get', key: 'k' }])).rejects.toThrow(/closed/);
  });
});
