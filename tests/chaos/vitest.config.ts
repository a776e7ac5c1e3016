import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const config = testConfig({ redis: true });
export default defineConfig({
  ...config,
  test: {
    ...config.test,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One file at a time: the machine has two shared cores, and the bounded-work scenarios
    // measure latency, which a neighbouring heavy file would distort.
    fileParallelism: false,
    // Scenario 8 measures heap growth after a forced collection.
    execArgv: ['--expose-gc'],
  },
});
