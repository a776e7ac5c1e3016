/**
 * The page's files, read once at start-up. They are real files (src/serve/page/), copied to
 * dist/serve/page/ by the build; uPlot comes from this package's own node_modules, so the
 * page never asks a CDN for anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

/** src/serve/assets.ts runs next to page/; the bundled dist/*.js next to serve/page/. */
function pageDirectory(): string {
  for (const relative of ['./page/', './serve/page/']) {
    const directory = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${directory}index.html`)) return directory;
  }
  throw new Error(`the page of porpoise serve is missing next to ${fileURLToPath(import.meta.url)}`);
}

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/** `/` and every `/assets/<name>` the page loads. */
export function loadAssets(): { page: Asset; assets: Map<string, Asset> } {
  const directory = pageDirectory();
  const require = createRequire(import.meta.url);
  const read = (path: string, type: keyof typeof TYPES): Asset => ({
    type: TYPES[type],
    body: readFileSync(path),
  });
  const assets = new Map<string, Asset>([
    ['app.js', read(`${directory}app.js`, 'js')],
    ['style.css', read(`${directory}style.css`, 'css')],
    ['uPlot.esm.js', read(require.resolve('uplot/dist/uPlot.esm.js'), 'js')],
    ['uPlot.min.css', read(require.resolve('uplot/dist/uPlot.min.css'), 'css')],
  ]);
  return { page: read(`${directory}index.html`, 'html'), assets };
}
