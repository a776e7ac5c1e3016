import { extractSnippets, normaliseOutput, prepareSnippet } from '@porpoise/doctest';
import { describe, expect, it } from 'vitest';

const fence = '```';

describe('extractSnippets', () => {
  it('takes every ts fence, with its line', () => {
    const md = `# T\n\n${fence}ts\nconst a = 1;\n${fence}\n\n${fence}sh\nls\n${fence}\n\n${fence}ts\nconst b = 2;\n${fence}\n`;
    const snippets = extractSnippets('x.md', md);
    expect(snippets.map((s) => [s.line, s.code])).toEqual([
      [3, 'const a = 1;'],
      [11, 'const b = 2;'],
    ]);
  });

  it('expects the text fence that follows when the prose between ends with "prints:"', () => {
    const md = `${fence}ts\nconsole.log(1);\n${fence}\n\nRun at noon, it prints:\n\n${fence}text\n1\n${fence}\n`;
    expect(extractSnippets('x.md', md)[0]?.expected).toBe('1');
    const withNote = `${fence}ts\nconsole.log(1);\n${fence}\n\nIt prints (at noon):\n\n${fence}text\n1\n${fence}\n`;
    expect(extractSnippets('x.md', withNote)[0]?.expected).toBe('1');
  });

  it('expects nothing from a text fence that the prose does not announce as output', () => {
    const md = `${fence}ts\nconsole.log(1);\n${fence}\n\nThe layout:\n\n${fence}text\nkeys\n${fence}\n`;
    expect(extractSnippets('x.md', md)[0]?.expected).toBeNull();
  });

  it('refuses "prints:" followed by anything but a text fence', () => {
    const md = `${fence}ts\nconsole.log(1);\n${fence}\n\nIt prints:\n\n${fence}sh\n1\n${fence}\n`;
    expect(() => extractSnippets('x.md', md)).toThrow(
      'x.md:7: the output announced by "prints:" must be a ```text block',
    );
  });

  it('reads a skip directive and its reason from the line before the fence', () => {
    const md = `<!-- doctest: skip needs a backend of your own -->\n${fence}ts\nnew MyBackend();\n${fence}\n`;
    expect(extractSnippets('x.md', md)[0]?.skip).toBe('needs a backend of your own');
  });

  it('refuses a skip without a reason and an unknown directive', () => {
    expect(() => extractSnippets('x.md', `<!-- doctest: skip -->\n${fence}ts\n1;\n${fence}\n`)).toThrow(
      'x.md:2: a doctest skip needs a reason',
    );
    expect(() => extractSnippets('x.md', `<!-- doctest: only -->\n${fence}ts\n1;\n${fence}\n`)).toThrow(
      'unknown doctest directive "only"',
    );
  });
});

describe('prepareSnippet', () => {
  it("points the docs' Redis URL at the throwaway server", () => {
    const code = "RedisBackend.fromUrl('redis://127.0.0.1:6379', { prefix: 'myapp' });";
    expect(prepareSnippet(code, { redisUrl: 'redis://127.0.0.1:23456' })).toBe(
      "RedisBackend.fromUrl('redis://127.0.0.1:23456', { prefix: 'myapp' });",
    );
    expect(() => prepareSnippet(code, { redisUrl: null })).toThrow('needs Redis');
  });
});

describe('normaliseOutput', () => {
  it('ignores trailing spaces and trailing blank lines, nothing else', () => {
    expect(normaliseOutput('a  \nb\n\n')).toBe('a\nb');
    expect(normaliseOutput(' a')).toBe(' a');
  });
});
