import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The page of `porpoise serve` is plain files read at start-up (src/serve/assets.ts looks for
  // them next to the bundle in dist/serve/page/).
  onSuccess: async () => {
    cpSync('src/serve/page', 'dist/serve/page', { recursive: true });
  },
});
