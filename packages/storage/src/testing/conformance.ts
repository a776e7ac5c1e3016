/**
 * The backend conformance suite: one specification every `Backend` must pass, run by each
 * backend's test file (memory, Redis, Redis Cluster, ioredis-mock) and available to
 * third-party backends as `@porpoise/storage/testing`. Its parts live in ./specs, one file
 * per area; this module runs them all against one backend factory.
 *
 * Every test gets a fresh backend from the factory (which must hand out an isolated
 * namespace, e.g. a unique Redis prefix) and closes it afterwards. Tests of an optional
 * feature skip themselves, visibly, when the backend reports it unsupported, so an emulator
 * never passes by omission.
 *
 * Data is small enough to run against a real server quickly. Keys written by one atomic write,
 * and the keys of one `storeCardinality`, share their last segment (locality group): a Redis
 * Cluster can only combine keys inside one slot.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Backend, Feature } from '../backend.js';
import type { Suite } from './harness.js';
import { atomicSpec } from './specs/atomic.js';
import { batchSpec } from './specs/batches.js';
import { bitmapSpec } from './specs/bitmaps.js';
import { counterSpec } from './specs/counters.js';
import { dictionarySpec } from './specs/dictionary.js';
import { expirySpec } from './specs/expiry.js';
import { hyperLogLogSpec } from './specs/hyperloglog.js';
import { idempotencySpec } from './specs/idempotency.js';
import { invalidArgumentSpec } from './specs/invalid-arguments.js';
import { keysSpec } from './specs/keys.js';
import { lifecycleSpec } from './specs/lifecycle.js';
import { setSpec } from './specs/sets.js';
import { sizeSpec } from './specs/sizes.js';
import { valueSpec } from './specs/values.js';
import { wrongTypeSpec } from './specs/wrong-types.js';

export interface ConformanceOptions {
  /**
   * Features known to be unsupported: their tests are skipped, with the reason printed. The
   * backend's `supports()` is consulted as well.
   */
  skip?: Feature[];
  /**
   * Tests to skip, by title, each with the reason (a known defect of an emulator, say).
   * Skipped tests are reported as skipped, never as passed.
   */
  knownDeviations?: Record<string, string>;
}

export function runBackendConformance(
  name: string,
  makeBackend: () => Promise<Backend> | Backend,
  options: ConformanceOptions = {},
): void {
  describe(`Backend conformance: ${name}`, () => {
    let current: Backend | undefined;
    const declaredUnsupported = (feature: Feature) => options.skip?.includes(feature) ?? false;
    const suite: Suite = {
      name,
      get backend(): Backend {
        if (!current) throw new Error('no backend: the factory has not run for this test');
        return current;
      },
      async requires(ctx, feature) {
        if (declaredUnsupported(feature)) ctx.skip(`${name}: ${feature} is declared unsupported`);
        if (!(await suite.backend.supports(feature))) ctx.skip(`${name} reports ${feature} as unsupported`);
      },
      async supported(feature) {
        return !declaredUnsupported(feature) && (await suite.backend.supports(feature));
      },
    };

    for (const feature of options.skip ?? []) {
      console.info(`[conformance] ${name}: ${feature} tests will be skipped (declared unsupported)`);
    }

    beforeEach(async (ctx) => {
      const reason = options.knownDeviations?.[ctx.task.name];
      if (reason !== undefined) ctx.skip(`${name}: ${reason}`);
      current = await makeBackend();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    lifecycleSpec(suite);
    bitmapSpec(suite);
    counterSpec(suite);
    setSpec(suite);
    hyperLogLogSpec(suite);
    valueSpec(suite);
    expirySpec(suite);
    keysSpec(suite);
    atomicSpec(suite);
    wrongTypeSpec(suite);
    batchSpec(suite);
    invalidArgumentSpec(suite);
    idempotencySpec(suite);
    sizeSpec(suite);
    dictionarySpec(suite);
  });
}
