/**
 * The Porpoise error hierarchy's base, shared by every package (storage re-exports it).
 * Errors are branded with a global symbol so `isInstance` works even when two copies of a
 * package are installed, where `instanceof` would not.
 */

/**
 * Stable error codes. INVALID_ARGUMENT: bad input, refused before anything happened.
 * BACKEND_ERROR: the store failed the operation. CONNECTION_ERROR: the store could not be
 * reached. TIMEOUT: the store did not answer in time (a write's outcome is then unknown).
 * OUT_OF_MEMORY: the store is over its memory limit and refused a write (nothing applied).
 * CONFIG_ERROR: the store is configured in a way that would lose or corrupt data.
 * DATA_LOSS: stored data is missing a part (evicted or deleted behind the library's back).
 * UNSUPPORTED: the store cannot do this at all.
 */
export type PorpoiseErrorCode =
  | 'INVALID_ARGUMENT'
  | 'BACKEND_ERROR'
  | 'CONNECTION_ERROR'
  | 'TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'CONFIG_ERROR'
  | 'DATA_LOSS'
  | 'UNSUPPORTED';

const BRAND = Symbol.for('porpoise.error');

export class PorpoiseError extends Error {
  readonly code: PorpoiseErrorCode;

  constructor(code: PorpoiseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PorpoiseError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static isInstance(error: unknown): error is PorpoiseError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  try {
    const json = JSON.stringify(value);
    return json === undefined
      ? Object.prototype.toString.call(value)
      : json.length > 80
        ? `${json.slice(0, 77)}...`
        : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** An argument was rejected before anything happened. Names the argument and the value. */
export class InvalidArgumentError extends PorpoiseError {
  readonly argument: string;
  readonly value: unknown;

  constructor(argument: string, value: unknown, reason: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', `Invalid argument "${argument}" (${describe(value)}): ${reason}`, options);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
    this.value = value;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return PorpoiseError.isInstance(error) && error.code === 'INVALID_ARGUMENT';
  }
}
