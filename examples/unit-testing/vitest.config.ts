import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

// The memory backend only: these tests never need a redis-server.
export default defineConfig(testConfig({ redis: false }));
