/**
 * Where logical keys live in Redis. A logical key `a:b:GROUP` is stored at
 * `${prefix}:a:b:{GROUP}`: its locality group is the Redis Cluster hash tag, so keys of one
 * group share a slot while a workload's many groups spread over the nodes. Logical keys
 * cannot contain braces, so a user key always ends with `}` and every internal key (bitmap
 * chunks `…}:c<n>`, temporaries `…}:t…`) has a suffix after it: they cannot collide.
 */
import { randomBytes } from 'node:crypto';
import { KEY_SEPARATOR, localityGroup } from '../keys.js';
import { validateNamespace } from '../names.js';

export class KeyLayout {
  readonly prefix: string;

  constructor(prefix: unknown = 'porpoise') {
    validateNamespace(prefix);
    this.prefix = prefix;
  }

  physical(key: string): string {
    const cut = key.lastIndexOf(KEY_SEPARATOR);
    return `${this.prefix}:${key.slice(0, cut + 1)}{${key.slice(cut + 1)}}`;
  }

  chunk(key: string, index: number): string {
    return `${this.physical(key)}:c${index}`;
  }

  /** A fresh temporary key base in `group`'s slot. */
  temporary(group: string): string {
    return `${this.prefix}:tmp:{${group}}:t${randomBytes(6).toString('hex')}:`;
  }

  /** The logical key of a physical user key, or null for internal and foreign keys. */
  logical(physical: string): string | null {
    const head = `${this.prefix}:`;
    if (!physical.startsWith(head) || !physical.endsWith('}')) return null;
    const rest = physical.slice(head.length);
    const open = rest.lastIndexOf('{');
    if (open < 0) return null;
    return rest.slice(0, open) + rest.slice(open + 1, -1);
  }

  /** SCAN pattern for every key of this prefix. */
  get pattern(): string {
    return `${this.prefix}:*`;
  }
}

export { localityGroup };
