/**
 * The error hierarchy. `PorpoiseError` and `InvalidArgumentError` live in
 * `@porpoise/timerange` (the lowest layer) and are re-exported here; storage adds the
 * errors only a backend can raise.
 */
import { PorpoiseError } from '@porpoise/timerange';

export { InvalidArgumentError, PorpoiseError, type PorpoiseErrorCode } from '@porpoise/timerange';

/** The store failed or could not be reached. The original error is the `cause`. */
export class BackendError extends PorpoiseError {
  constructor(message: string, options?: { cause?: unknown; code?: 'BACKEND_ERROR' | 'CONNECTION_ERROR' }) {
    super(options?.code ?? 'BACKEND_ERROR', message, options);
    this.name = 'BackendError';
  }

  static override isInstance(error: unknown): error is BackendError {
    return (
      PorpoiseError.isInstance(error) && (error.code === 'BACKEND_ERROR' || error.code === 'CONNECTION_ERROR')
    );
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
