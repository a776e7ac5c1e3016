export { extractSnippets, type Snippet } from './extract.ts';
export { normaliseOutput, prepareSnippet, type SnippetTarget, usesRedis } from './prepare.ts';
