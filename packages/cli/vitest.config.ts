import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const config = testConfig({ redis: true });
export default defineConfig({
  ...config,
  // Every --demo seeds afresh (the progress and seeding tests need it, and a developer's cache
  // in the OS temp folder stays out of the tests); test/demo-cache.test.ts turns it on.
  test: { ...config.test, env: { PORPOISE_DEMO_CACHE: 'off' } },
});
