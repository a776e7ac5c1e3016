export { type ConformanceOptions, runBackendConformance, runNamespaceIsolation } from './conformance.js';
