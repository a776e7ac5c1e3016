export { type ConformanceOptions, runBackendConformance } from './conformance.js';
export { runNamespaceIsolation } from './isolation.js';
export { applyToModel, bitExprArbitrary, evaluateModel, offsetsArbitrary } from './model.js';
