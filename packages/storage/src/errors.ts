/**
 * The error hierarchy. `PorpoiseError` and `InvalidArgumentError` live in
 * `@porpoise/timerange` (the lowest layer) and are re-exported here; storage adds the
 * errors only a backend can raise.
 */
import { PorpoiseError } from '@porpoise/timerange';

export { InvalidArgumentError, PorpoiseError, type PorpoiseErrorCode } from '@porpoise/timerange';

/** The codes a BackendError carries (see PorpoiseErrorCode for what each means). */
export type BackendErrorCode =
  | 'BACKEND_ERROR'
  | 'CONNECTION_ERROR'
  | 'TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'CONFIG_ERROR'
  | 'DATA_LOSS';

const BACKEND_CODES: ReadonlySet<string> = new Set<BackendErrorCode>([
  'BACKEND_ERROR',
  'CONNECTION_ERROR',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'CONFIG_ERROR',
  'DATA_LOSS',
]);

/** The store failed, could not be reached, or refused. The original error is the `cause`. */
export class BackendError extends PorpoiseError {
  declare readonly code: BackendErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: BackendErrorCode }) {
    super(options?.code ?? 'BACKEND_ERROR', message, options);
    this.name = 'BackendError';
  }

  static override isInstance(error: unknown): error is BackendError {
    return PorpoiseError.isInstance(error) && BACKEND_CODES.has(error.code);
  }
}

/** The backend cannot do this at all (e.g. an emulator without BITOP). */
export class UnsupportedError extends PorpoiseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNSUPPORTED', message, options);
    this.name = 'UnsupportedError';
  }

  static override isInstance(error: unknown): error is UnsupportedError {
    return PorpoiseError.isInstance(error) && error.code === 'UNSUPPORTED';
  }
}
