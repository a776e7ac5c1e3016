/**
 * The conformance suite every backend must pass, on vitest, with its models and generators.
 *
 * @module @porpoise/storage/testing
 */
export { type ConformanceOptions, runBackendConformance } from './conformance.js';
export { runNamespaceIsolation } from './isolation.js';
export { applyToModel, bitExprArbitrary, evaluateModel, offsetsArbitrary } from './model.js';
