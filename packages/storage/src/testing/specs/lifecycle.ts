/** The backend itself: its name, its features and closing. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Feature } from '../../backend.js';
import { BackendError, UnsupportedError } from '../../errors.js';
import { bit } from '../../expr.js';
import { FEATURES, rejection, type Suite } from '../harness.js';

export function lifecycleSpec(suite: Suite): void {
  describe('lifecycle', () => {
    let backend: Backend;
    beforeEach(() => {
      backend = suite.backend;
    });

    it('has a name', () => {
      expect(typeof backend.name).toBe('string');
      expect(backend.name.length).toBeGreaterThan(0);
    });

    it('answers supports() with a boolean for every feature', async () => {
      for (const feature of FEATURES) expect(typeof (await backend.supports(feature))).toBe('boolean');
    });

    it('rejects operations of a feature it does not support with UnsupportedError, writing nothing', async (ctx) => {
      const missing: Feature[] = [];
      for (const feature of FEATURES) if (!(await backend.supports(feature))) missing.push(feature);
      if (missing.length === 0) ctx.skip(`${suite.name} supports every feature`);
      const unsupported = (error: unknown) =>
        expect(UnsupportedError.isInstance(error), `expected UnsupportedError, got ${String(error)}`).toBe(
          true,
        );
      if (missing.includes('bitmaps')) {
        unsupported(await rejection(backend.write([{ op: 'setBits', key: 'u:b', offsets: [1] }])));
        unsupported(await rejection(backend.read([{ op: 'bitCount', expr: bit.key('u:b') }])));
      }
      if (missing.includes('hyperloglog')) {
        unsupported(await rejection(backend.write([{ op: 'hllAdd', key: 'u:h', members: ['a'] }])));
        unsupported(await rejection(backend.read([{ op: 'hllCount', keys: ['u:h'] }])));
      }
      expect(await backend.keys()).toEqual([]);
    });

    it('rejects every call after close with a BackendError, and closing twice is harmless', async () => {
      await backend.close();
      const calls: Array<Promise<unknown>> = [
        backend.read([{ op: 'get', key: 'k' }]),
        backend.write([{ op: 'set', key: 'k', value: '1' }]),
        backend.keys(),
        backend.supports('bitmaps'),
      ];
      for (const call of calls) {
        const error = await rejection(call);
        expect(BackendError.isInstance(error), String(error)).toBe(true);
        expect((error as Error).message).toMatch(/closed/);
      }
      await backend.close();
    });
  });
}
