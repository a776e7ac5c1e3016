import { describe, expect, it } from 'vitest';
import { encodeKeySegment, InvalidArgumentError, keyOf, localityGroup, validateKey } from '../src/index.js';

describe('keys', () => {
  it('encodes separators, braces, percent signs and whitespace in a segment', () => {
    expect(encodeKeySegment('song:played')).toBe('song%3Aplayed');
    expect(encodeKeySegment('{tag} 100%')).toBe('%7Btag%7D%20100%25');
    expect(encodeKeySegment('café')).toBe('café');
  });

  it('keeps names that differ only by escapes apart', () => {
    expect(encodeKeySegment('a:b')).not.toBe(encodeKeySegment('a%3Ab'));
  });

  it('joins segments and takes the last one as the locality group', () => {
    const key = keyOf('events', 'e', encodeKeySegment('song:played'), 'day', '20261124');
    expect(key).toBe('events:e:song%3Aplayed:day:20261124');
    expect(localityGroup(key)).toBe('20261124');
  });

  it.each([
    ['', 'empty'],
    ['a::b', 'empty segment'],
    [':a', 'leading separator'],
    ['a:', 'trailing separator'],
    ['a{b}', 'braces'],
    ['a b', 'whitespace'],
    ['a\u0000b', 'control character'],
    ['x'.repeat(1025), 'too long'],
  ])('rejects the key %j (%s)', (key) => {
    expect(() => validateKey(key)).toThrow(InvalidArgumentError);
  });

  it('rejects a segment that contains the separator', () => {
    expect(() => keyOf('a', 'b:c')).toThrow(/segment/);
  });
});
