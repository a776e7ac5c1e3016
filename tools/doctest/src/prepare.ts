/**
 * Rewrites a snippet for the test run: the Redis URL of the docs (`redis://127.0.0.1:6379`)
 * becomes the throwaway server's, so a snippet never touches a developer's own Redis.
 */

export interface SnippetTarget {
  /** `redis://host:port` of the throwaway server, or null when there is none. */
  redisUrl: string | null;
}

const DOCS_REDIS_URL = /redis:\/\/127\.0\.0\.1:6379/g;

/** True when the snippet talks to the Redis server of the docs. */
export function usesRedis(code: string): boolean {
  return /redis:\/\/127\.0\.0\.1:6379/.test(code);
}

export function prepareSnippet(code: string, target: SnippetTarget): string {
  if (usesRedis(code)) {
    if (!target.redisUrl) throw new Error('this snippet needs Redis, and there is no redis-server');
    return code.replace(DOCS_REDIS_URL, target.redisUrl);
  }
  return code;
}

/** Output as compared: trailing spaces and trailing blank lines do not count. */
export function normaliseOutput(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trimEnd();
}
