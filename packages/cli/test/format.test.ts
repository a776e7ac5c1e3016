import { describe, expect, it } from 'vitest';
import { expressionText } from '../src/commands/events.js';
import { bar, peakOf, sparkline } from '../src/format/chart.js';
import { toJson } from '../src/format/json.js';
import { fmt, heading, pct, table } from '../src/format/text.js';
import { escapeHtml, jsonForScript } from '../src/report/escape.js';
import { compact, heat, niceTicks } from '../src/report/svg.js';

describe('terminal formatting', () => {
  it('aligns a table: labels left, numbers right, a rule under the header', () => {
    expect(
      table(
        ['song', 'plays'],
        [
          ['a', 1000],
          ['long-name', 7],
        ],
      ).split('\n'),
    ).toEqual(['song       plays', '─────────  ─────', 'a           1000', 'long-name      7']);
  });

  it('left-aligns several label columns and trims trailing spaces on request', () => {
    const text = table(['key', 'day', 'n', ''], [['k1', 'Mon', '5', '']], { left: 2, trim: true });
    expect(text.split('\n')).toEqual(['key  day  n', '───  ───  ─', 'k1   Mon  5']);
  });

  it('keeps the quick start layout by default, trailing spaces included', () => {
    expect(table(['song', 'plays', ''], [['s', '1', '██']]).split('\n')[0]).toBe('song  plays    ');
  });

  it('draws bars and sparklines relative to the peak, clamped', () => {
    expect(bar(15, 30, 10)).toBe('█████░░░░░');
    expect(bar(0, 0, 4)).toBe('░░░░');
    expect(bar(-3, 10, 4)).toBe('░░░░');
    expect(bar(20, 10, 4)).toBe('████');
    expect(sparkline([0, 4, 8])).toBe(' ▄█');
    expect(sparkline([])).toBe('');
    expect(peakOf(Array.from({ length: 300_000 }, (_, i) => i))).toBe(299_999);
  });

  it('formats numbers the en-US way', () => {
    expect(fmt(1234567)).toBe('1,234,567');
    expect(pct(0.6349)).toBe('63.5%');
    expect(heading('Top')).toBe('\nTop\n═══');
    expect(toJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });

  it('writes an expression left to right, parenthesised where the operator changes', () => {
    expect(expressionText('active', [])).toBe('active');
    expect(
      expressionText('a', [
        { op: 'and', name: 'b' },
        { op: 'and', name: 'c' },
      ]),
    ).toBe('a AND b AND c');
    expect(
      expressionText('a', [
        { op: 'and', name: 'b' },
        { op: 'or', name: 'c' },
        { op: 'not', name: 'song:played' },
      ]),
    ).toBe('((a AND b) OR c) AND NOT song:played');
    expect(expressionText('two words', [{ op: 'xor', name: 'x' }])).toBe('"two words" XOR x');
  });
});

describe('report helpers', () => {
  it('escapes every HTML-significant character', () => {
    expect(escapeHtml(`<img src="x" onerror='alert(1)'>&`)).toBe(
      '&lt;img src=&quot;x&quot; onerror=&#39;alert(1)&#39;&gt;&amp;',
    );
    expect(escapeHtml(42)).toBe('42');
  });

  it('embeds JSON that cannot close its script element and still parses back', () => {
    const value = { name: '</script><script>alert(1)</script>', amp: 'a&b', line: '\u2028' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('picks round axis ticks that cover the maximum', () => {
    expect(niceTicks(419)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(niceTicks(20_443)).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(compact(12_400)).toBe('12.4k');
    expect(compact(3_000_000)).toBe('3M');
    expect(compact(950)).toBe('950');
  });

  it('shades the heat map from pale to deep blue, with light text on the dark end', () => {
    expect(heat(0)).toEqual({ fill: '#eff6ff', light: false });
    expect(heat(1)).toEqual({ fill: '#1e40af', light: true });
    expect(heat(7)).toEqual(heat(1));
  });
});
