// Builds web/dist/ from web/src/: the app bundle, its stylesheet, the page and the basemap.
// Deterministic: the same sources and package-lock.json give byte-identical files (no
// timestamps, no content hashes in names, no source maps with absolute paths); CI checks it
// with `git diff --exit-code web/dist` after `npm ci && npm run build`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { feature } from 'topojson-client';
import polygonClipping from 'polygon-clipping';

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
// coordinates on a 1e-4 degree grid (about 10 m): tens of kB instead of 3.7 MB. The clip is
// polygon-clipping's intersection with the box (Martinez-Rueda-Feito), not ring-by-ring
// clipping: a ring the box cuts into pieces becomes several polygons rather than one ring
// joined along the box's edge by zero-width bridges, and the output is valid GeoJSON (RFC 7946:
// exterior rings counterclockwise, holes clockwise; no ring touches or crosses itself, no
// repeated points), whatever the winding of world-atlas (clockwise exteriors, d3's convention)
// and whatever spikes its quantization left.
const BBOX = [33.5, 30.8, 38.5, 35.0]; // west, south, east, north
const GRID = 1e4;
const topo = JSON.parse(readFileSync(`${root}node_modules/world-atlas/countries-10m.json`, 'utf8'));
const countries = feature(topo, topo.objects.countries);
const box = [[[BBOX[0], BBOX[1]], [BBOX[2], BBOX[1]], [BBOX[2], BBOX[3]], [BBOX[0], BBOX[3]], [BBOX[0], BBOX[1]]]];

const snap = (v) => Math.round(v * GRID) / GRID;
const snapAll = (multi) => multi.map((poly) => poly.map((ring) => ring.map(([x, y]) => [snap(x), snap(y)])));
const onGrid = (multi) => multi.every((poly) => poly.every((ring) => ring.every(([x, y]) => snap(x) === x && snap(y) === y)));

// Snapping a valid geometry to the grid can make it invalid (two vertices that round to one, a
// ring that comes to touch itself), and clipping a snapped one adds vertices off the grid (where
// edges cross the box, or cross each other after snapping). So snap and clip until the clip
// adds no vertex off the grid: its output is then both valid and on the grid.
function clipToBox(multi, name) {
  let g = snapAll(multi);
  for (let pass = 0; pass < 8; pass++) {
    const out = polygonClipping.intersection(g, box);
    if (onGrid(out)) return out;
    g = snapAll(out);
  }
  throw new Error(`basemap: ${name} does not settle on the 1e-4 grid after 8 rounds of snapping and clipping`);
}

const features = [];
for (const f of countries.features) {
  const multi = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  const kept = clipToBox(multi, f.properties.name);
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
    source: 'Natural Earth 1:10m admin 0 countries (public domain), via the world-atlas 2.0.2 npm package; clipped to ' + BBOX.join(',') + ' with polygon-clipping and snapped to a 1e-4 degree grid; exterior rings counterclockwise (RFC 7946)',
    features,
  }),
);
