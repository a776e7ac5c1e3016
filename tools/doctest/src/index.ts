export { extractSnippets, type Snippet } from './extract.ts';
export { markdownFiles, writeSnippetFiles } from './files.ts';
export { normaliseOutput, prepareSnippet, type SnippetTarget, usesRedis } from './prepare.ts';
