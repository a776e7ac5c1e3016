/**
 * Finds the runnable snippets of a Markdown file: every ```ts fence, the directive comment
 * that may precede it (`<!-- doctest: skip <reason> -->`) and, when the prose after it ends
 * with "prints:" (or "prints (…):"), the ```text fence that follows as the expected output.
 */

export interface Snippet {
  /** The Markdown file, as given to `extractSnippets`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** What the snippet must print (stdout), when the docs show it. */
  expected: string | null;
  /** Why the snippet is not run, when it is marked `<!-- doctest: skip <reason> -->`. */
  skip: string | null;
}

interface Fence {
  lang: string;
  line: number;
  body: string;
  /** Non-blank lines between the previous fence (or the start) and this one. */
  before: string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const DIRECTIVE = /^<!--\s*doctest:\s*(\w+)\s*(.*?)\s*-->$/;
const PRINTS = /prints(\s*\([^)]*\))?:\s*$/i;

function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const found: Fence[] = [];
  let before: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) {
      if ((lines[i] ?? '').trim() !== '') before.push((lines[i] ?? '').trim());
      continue;
    }
    const marker = open[2] ?? '```';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim().startsWith(marker) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line);
    }
    found.push({ lang: open[3] ?? '', line: i + 1, body: body.join('\n'), before });
    before = [];
    i = j;
  }
  return found;
}

export function extractSnippets(file: string, markdown: string): Snippet[] {
  const all = fences(markdown);
  const snippets: Snippet[] = [];
  for (let k = 0; k < all.length; k++) {
    const fence = all[k]!;
    if (fence.lang !== 'ts' && fence.lang !== 'typescript') continue;
    let skip: string | null = null;
    const last = fence.before.at(-1);
    const directive = last ? DIRECTIVE.exec(last) : null;
    if (directive) {
      if (directive[1] !== 'skip') {
        throw new Error(`${file}:${fence.line}: unknown doctest directive "${directive[1]}"`);
      }
      if (!directive[2]) throw new Error(`${file}:${fence.line}: a doctest skip needs a reason`);
      skip = directive[2];
    }
    const next = all[k + 1];
    const prose = next?.before.join(' ') ?? '';
    const announced = next !== undefined && PRINTS.test(prose);
    if (announced && next.lang !== 'text') {
      throw new Error(`${file}:${next.line}: the output announced by "prints:" must be a \`\`\`text block`);
    }
    const expected = announced ? next.body : null;
    snippets.push({ file, line: fence.line, code: fence.body, expected, skip });
  }
  return snippets;
}
