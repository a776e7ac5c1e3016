import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, stringId, validateName } from '../src/index.js';

function rejection(call: () => unknown): InvalidArgumentError {
  try {
    call();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error as InvalidArgumentError;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('validateName', () => {
  it.each([
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', 'a\udc00b'],
    ['a high surrogate at the end', 'emoji\ud83d'],
    ['two surrogates in the wrong order', '\ude00\ud83d'],
  ])('refuses %s, saying a lone surrogate was found', (_label, name) => {
    const error = rejection(() => validateName(name, 'name'));
    expect(error.argument).toBe('name');
    expect(error.message).toContain('lone surrogate');
  });

  it('names the index of the lone surrogate', () => {
    expect(rejection(() => validateName('ab\ud800', 'bucket')).message).toContain(
      '(\\ud800) was found at index 2',
    );
  });

  it('accepts surrogate pairs (characters outside the BMP)', () => {
    expect(() => validateName('launch \ud83d\ude80', 'name')).not.toThrow();
  });
});

describe('stringId', () => {
  it.each([0, 1, -1, 42, 2 ** 53 - 1, -(2 ** 53 - 1)])(
    'stores the safe integer %s as its decimal string',
    (id) => {
      expect(stringId(id, 'id')).toBe(String(id));
    },
  );

  it.each([
    ['2^53', 2 ** 53],
    ['2^53 + 1 (arrives rounded to 2^53)', 2 ** 53 + 1],
    ['2^64', 2 ** 64],
    ['-(2^53)', -(2 ** 53)],
    ['a fraction', 1.5],
    ['a tiny fraction', Number.MIN_VALUE],
    ['-0', -0],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses %s as a numeric id', (_label, id) => {
    const error = rejection(() => stringId(id, 'id'));
    expect(error.argument).toBe('id');
    expect(error.message).toContain('must be a safe integer');
  });

  it('refuses a string id with a lone surrogate', () => {
    expect(rejection(() => stringId('user\udfff', 'oldId')).message).toContain('lone surrogate');
  });

  it('accepts large and fractional ids as strings', () => {
    expect(stringId('18446744073709551616', 'id')).toBe('18446744073709551616');
    expect(stringId('1.5', 'id')).toBe('1.5');
  });
});
