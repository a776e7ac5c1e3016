#!/usr/bin/env node
// Installs the packages as a user would get them from npm, and runs the CLI from there.
// Workspace links hide mistakes a published package would have (a file missing from
// "files", a dependency only the monorepo provides, a bin without its shebang), so this
// packs every publishable package (packages/*), installs all the tarballs into a fresh npm
// project and runs `npx porpoise demo --users 2000`. It builds nothing: run `pnpm build`
// first. Only luxon, lru-cache, commander, ioredis, fastify (with its dependencies) and uplot
// come from the npm registry.
//
//   node tools/packed-install-check.mjs [--keep]   (--keep leaves the temp folder for a look)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const HEADING = 'Daily active users, last 14 days';

class CheckFailed extends Error {}

function fail(message) {
  throw new CheckFailed(message);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result;
}

function main() {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(root, 'packages', entry.name);
      return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
    })
    .filter(({ manifest }) => manifest.private !== true);
  if (packages.length === 0) fail('no publishable package under packages/');

  for (const { dir, manifest } of packages) {
    const entry = manifest.exports?.['.']?.default ?? manifest.main;
    if (entry && !existsSync(join(dir, entry)))
      fail(`${manifest.name} has no ${entry}: run pnpm build first`);
  }

  const work = mkdtempSync(join(tmpdir(), 'porpoise-packed-'));
  try {
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    for (const { dir, manifest } of packages) {
      // pnpm pack rewrites workspace:^ ranges to the real versions, as publishing does.
      const packed = run('pnpm', ['pack', '--pack-destination', tarballs], dir);
      if (packed.status !== 0) fail(`pnpm pack of ${manifest.name}: ${packed.stderr || packed.stdout}`);
    }
    const files = readdirSync(tarballs)
      .filter((name) => name.endsWith('.tgz'))
      .map((name) => join(tarballs, name));
    if (files.length !== packages.length) fail(`expected ${packages.length} tarballs, found ${files.length}`);

    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'porpoise-packed-check', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    const installed = run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files],
      project,
    );
    if (installed.status !== 0) fail(`npm install: ${installed.stderr || installed.stdout}`);

    // --no: never fetch some other "porpoise" from the registry if the bin did not install.
    const demo = run('npx', ['--no', '--', 'porpoise', 'demo', '--users', '2000'], project);
    if (demo.status !== 0) fail(`npx porpoise demo exited ${demo.status}: ${demo.stderr.trim()}`);
    if (!demo.stdout.includes(HEADING)) fail(`npx porpoise demo did not print "${HEADING}":\n${demo.stdout}`);
    if (!demo.stdout.includes('with 2,000 users'))
      fail(`npx porpoise demo did not get --users 2000:\n${demo.stdout}`);

    const version = execFileSync('npx', ['--no', '--', 'porpoise', '--version'], {
      cwd: project,
      encoding: 'utf8',
    }).trim();
    console.log(
      `packed-install-check: OK (${files.length} packages packed and installed with npm; porpoise ${version} demo printed "${HEADING}")`,
    );
  } finally {
    if (keep) console.log(`packed-install-check: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof CheckFailed)) throw error;
  console.error(`packed-install-check: FAILED: ${error.message}`);
  process.exitCode = 1;
}
