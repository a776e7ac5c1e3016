/** The publishable packages move together: one version, one changesets `fixed` group. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}

const publishable = readdirSync(join(root, 'packages'))
  .sort()
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest)
  .filter((manifest) => manifest.private !== true);

describe('package versions', () => {
  it('are one version for every publishable package', () => {
    const versions = new Set(publishable.map((manifest) => manifest.version));
    expect([...versions]).toHaveLength(1);
  });

  it('are bumped together by changesets (one fixed group of every publishable package)', () => {
    const config = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')) as {
      fixed: string[][];
    };
    expect(config.fixed.map((group) => [...group].sort())).toEqual([
      publishable.map((manifest) => manifest.name).sort(),
    ]);
  });
});
