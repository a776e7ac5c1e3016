import { defineConfig } from 'vitest/config';

// `pnpm vitest` at the root runs every package as one vitest project each.
export default defineConfig({
  test: { projects: ['packages/*'] },
});
