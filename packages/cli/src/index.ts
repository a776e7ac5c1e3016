export { parseRange, parseRangeSpec, type RangeSpec, UNITS } from './args/range.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
export type { Io, Writer } from './io.js';
export type { ReportData } from './report/data.js';
export { renderReport } from './report/html.js';
export { run } from './run.js';
export type { LimitOptions } from './serve/limit.js';
export { buildServer, type ServerOptions } from './serve/server.js';
export { VERSION } from './version.js';
