import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

// No 'module': it is a bundlers' condition, and Node loads our dependencies itself (packages
// such as @opentelemetry/api publish extensionless ESM under it that Node cannot load).
const sourceConditions = ['@porpoise/source', 'import', 'node', 'default'];

/** Per-package vitest settings: tests run against `src/` (no build) via the source condition. */
export function testConfig({ redis }: { redis: boolean }): ViteUserConfig {
  return {
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: sourceConditions } },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      testTimeout: 30_000,
      // The JSON report feeds tools/test-summary.mjs, which prints one total for the whole run.
      reporters: ['default', 'json'],
      outputFile: {
        json: fileURLToPath(new URL(`./tmp/vitest/${basename(process.cwd())}.json`, import.meta.url)),
      },
      hookTimeout: 60_000,
      globalSetup: redis
        ? [fileURLToPath(new URL('./tools/test-redis/src/global-setup.ts', import.meta.url))]
        : [],
    },
  };
}
