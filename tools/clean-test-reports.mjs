#!/usr/bin/env node
// Removes the previous run's vitest reports so the summary counts only this run.
import { rmSync } from 'node:fs';

rmSync(new URL('../tmp/vitest/', import.meta.url), { recursive: true, force: true });
