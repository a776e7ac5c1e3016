import { defineProject } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

export default defineProject(testConfig({ redis: false }));
