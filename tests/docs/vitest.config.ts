import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const config = testConfig({ redis: true });
// The CLI snippet runs --demo: seed it afresh rather than leave a snapshot in the OS temp folder.
export default defineConfig({ ...config, test: { ...config.test, env: { PORPOISE_DEMO_CACHE: 'off' } } });
