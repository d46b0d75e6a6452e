// Builds dist/: index.html, viewer.js (OpenLayers inside) and viewer.css (ol/ol.css inside).
// Everything is bundled so the page needs nothing but the publication it sits in.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';

const dist = new URL('./dist/', import.meta.url);
const src = new URL('./src/', import.meta.url);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
// main.js imports viewer.css, so esbuild writes viewer.css beside viewer.js.
await build({
  entryPoints: { viewer: new URL('main.js', src).pathname },
  outdir: dist.pathname,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  logLevel: 'warning',
});
await copyFile(new URL('index.html', src), new URL('index.html', dist));
for (const f of (await readdir(dist)).sort())
  console.log(`dist/${f} ${(await stat(new URL(f, dist))).size} bytes`);
