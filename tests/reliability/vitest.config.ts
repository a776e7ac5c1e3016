import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const config = testConfig({ redis: true });
export default defineConfig({
  ...config,
  test: { ...config.test, testTimeout: 120_000, hookTimeout: 120_000 },
});
