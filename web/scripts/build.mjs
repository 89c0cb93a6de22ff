// Builds web/dist/ from web/src/: the app bundle, its stylesheet, the page and the basemap.
// Deterministic: the same sources and package-lock.json give byte-identical files (no
// timestamps, no content hashes in names, no source maps with absolute paths); CI checks it
// with `git diff --exit-code web/dist` after `npm ci && npm run build`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { feature } from 'topojson-client';

const root = new URL('..', import.meta.url).pathname;
const dist = `${root}dist`;
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [`${root}src/main.ts`],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  legalComments: 'eof',
  charset: 'utf8',
  outfile: `${dist}/app.js`,
  logLevel: 'warning',
});

const css = [
  '/* Leaflet 1.9.4 stylesheet (BSD-2-Clause), then the dashboard\'s own. */',
  readFileSync(`${root}node_modules/leaflet/dist/leaflet.css`, 'utf8'),
  readFileSync(`${root}src/style.css`, 'utf8'),
].join('\n');
writeFileSync(`${dist}/app.css`, css);
copyFileSync(`${root}src/index.html`, `${dist}/index.html`);

// Basemap: Natural Earth 1:10m countries (world-atlas), clipped to the region around the Golan,
// coordinates rounded to 4 decimals (about 10 m): tens of kB instead of 3.7 MB.
const BBOX = [33.5, 30.8, 38.5, 35.0]; // west, south, east, north
const topo = JSON.parse(readFileSync(`${root}node_modules/world-atlas/countries-10m.json`, 'utf8'));
const countries = feature(topo, topo.objects.countries);

// Sutherland-Hodgman clipping of one ring against the box, edge by edge.
function clipRing(ring) {
  const edges = [
    [(p) => p[0] >= BBOX[0], (a, b) => at(a, b, 0, BBOX[0])],
    [(p) => p[0] <= BBOX[2], (a, b) => at(a, b, 0, BBOX[2])],
    [(p) => p[1] >= BBOX[1], (a, b) => at(a, b, 1, BBOX[1])],
    [(p) => p[1] <= BBOX[3], (a, b) => at(a, b, 1, BBOX[3])],
  ];
  let out = ring;
  for (const [inside, cross] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i++) {
      const cur = input[i];
      const prev = input[(i + input.length - 1) % input.length];
      if (inside(cur)) {
        if (!inside(prev)) out.push(cross(prev, cur));
        out.push(cur);
      } else if (inside(prev)) {
        out.push(cross(prev, cur));
      }
    }
    if (out.length === 0) return null;
  }
  const rounded = out.map((p) => [Math.round(p[0] * 1e4) / 1e4, Math.round(p[1] * 1e4) / 1e4]);
  rounded.push(rounded[0]);
  return rounded.length >= 4 ? rounded : null;
}
function at(a, b, axis, v) {
  const t = (v - a[axis]) / (b[axis] - a[axis]);
  return axis === 0 ? [v, a[1] + t * (b[1] - a[1])] : [a[0] + t * (b[0] - a[0]), v];
}

const features = [];
for (const f of countries.features) {
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  const kept = [];
  for (const poly of polys) {
    const outer = clipRing(poly[0].slice(0, -1));
    if (!outer) continue;
    const holes = poly.slice(1).map((r) => clipRing(r.slice(0, -1))).filter(Boolean);
    kept.push([outer, ...holes]);
  }
  if (kept.length) {
    features.push({
      type: 'Feature',
      properties: { name: f.properties.name },
      geometry: { type: 'MultiPolygon', coordinates: kept },
    });
  }
}
writeFileSync(
  `${dist}/basemap.json`,
  JSON.stringify({
    type: 'FeatureCollection',
    source: 'Natural Earth 1:10m admin 0 countries (public domain), via the world-atlas 2.0.2 npm package; clipped to ' + BBOX.join(',') + ' and rounded to 1e-4 degrees',
    features,
  }),
);
