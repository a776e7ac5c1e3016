#!/usr/bin/env node
// Adds up the per-package vitest JSON reports written by `pnpm test` into one closing line,
// with the number of tests each backend ran (the conformance suite and the package suites).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../tmp/vitest/', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
const perBackend = new Map();
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json'));
} catch {
  files = [];
}
const backendOf = (titles) => {
  for (const title of titles) {
    const conformance = /^Backend conformance: (.+)$/.exec(title);
    if (conformance) return `conformance on ${conformance[1]}`;
    const suite = /^on (memory|redis|redis-cluster|node-redis|node-redis-cluster|ioredis-mock)$/.exec(title);
    if (suite) return `package suites on ${suite[1]}`;
  }
  return null;
};
for (const file of files.sort()) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const p = report.numPassedTests ?? 0;
  const f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  passed += p;
  failed += f;
  skipped += s;
  rows.push(
    `  ${file.replace(/\.json$/, '').padEnd(34)} ${String(p).padStart(5)} passed ${String(f).padStart(3)} failed ${String(s).padStart(4)} skipped`,
  );
  for (const suite of report.testResults ?? []) {
    for (const test of suite.assertionResults ?? []) {
      const backend = backendOf(test.ancestorTitles ?? []);
      if (!backend) continue;
      const entry = perBackend.get(backend) ?? { passed: 0, failed: 0, skipped: 0 };
      if (test.status === 'passed') entry.passed++;
      else if (test.status === 'failed') entry.failed++;
      else entry.skipped++;
      perBackend.set(backend, entry);
    }
  }
}
console.log('\nPer package:');
console.log(rows.join('\n'));
console.log('\nPer backend:');
for (const [backend, e] of [...perBackend].sort()) {
  console.log(
    `  ${backend.padEnd(34)} ${String(e.passed).padStart(5)} passed ${String(e.failed).padStart(3)} failed ${String(e.skipped).padStart(4)} skipped`,
  );
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exit(1);
