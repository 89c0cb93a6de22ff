// The map: a Natural Earth basemap, the agreement's zones with a legend, each party's claimed
// layers as switchable overlays, named places, notices' areas (SVG: a few dozen shapes), and
// the events (clustered with supercluster, drawn on one canvas so that 100,000 stay responsive).
import L from 'leaflet';
import Supercluster from 'supercluster';
import type { ClusterFeature, PointFeature } from 'supercluster';
import { CORROBORATION, EventStore } from './data';

export const CORROBORATION_COLOURS: Record<(typeof CORROBORATION)[number], string> = {
  contradicted: '#b2182b',
  single_source: '#f4a582',
  one_party: '#d6b656',
  cross_party: '#4393c3',
  verified: '#1a7837',
};

const ZONE_STYLES: Record<string, L.PathOptions & { label: string }> = {
  line: { color: '#222', weight: 2.5, dashArray: '6 4', fill: false, label: 'Lines A and B' },
  area_of_separation: { color: '#6a3d9a', weight: 1.5, fillColor: '#cab2d6', fillOpacity: 0.45, label: 'Area of Separation' },
  area_of_limitation: { color: '#b15928', weight: 1, fillColor: '#fdbf6f', fillOpacity: 0.18, label: 'Areas of Limitation (0–10, 10–20, 20–25 km)' },
  governorate: { color: '#555', weight: 1, dashArray: '2 3', fill: false, label: 'Governorates (Quneitra, Daraa, As-Suwayda)' },
};
const CLAIMED_STYLE: L.PathOptions = { color: '#e7298a', weight: 2.5, dashArray: '10 4', fill: false };

export interface ZoneFeature {
  type: 'Feature';
  id?: string;
  properties: Record<string, unknown>;
  geometry: GeoJSON.Geometry;
}

export interface MapHandlers {
  onEvent(row: number): void;
}

export class TruceMap {
  readonly map: L.Map;
  /** Events and places: one canvas in a pane above the zones. */
  private readonly renderer: L.Canvas;
  private readonly eventLayer = L.layerGroup();
  private readonly highlight = L.layerGroup();
  private readonly noticeLayer = L.layerGroup();
  private hoverCircle: L.Circle | null = null;
  private index: Supercluster | null = null;
  private store: EventStore | null = null;
  private readonly control: L.Control.Layers;
  /** Zones by id (agreement layer), for notices that name zones. */
  readonly zonesById = new Map<string, ZoneFeature>();
  drawnMarkers = 0;

  constructor(el: HTMLElement, private readonly handlers: MapHandlers) {
    this.map = L.map(el, { zoomSnap: 0.5, attributionControl: true, keyboard: true })
      .setView([33.0, 35.9], 9);
    // Panes: the basemap under everything, the zones (overlayPane, 400), then the events.
    this.map.createPane('basemap').style.zIndex = '250';
    this.map.createPane('events').style.zIndex = '450';
    this.renderer = L.canvas({ padding: 0.3, pane: 'events' });
    this.map.attributionControl.setPrefix(false);
    this.control = L.control.layers(undefined, undefined, { collapsed: false, position: 'topright' }).addTo(this.map);
    this.eventLayer.addTo(this.map);
    this.highlight.addTo(this.map);
    this.noticeLayer.addTo(this.map);
    this.control.addOverlay(this.eventLayer, 'Events');
    this.control.addOverlay(this.noticeLayer, 'Notices (areas in effect)');
    this.map.on('moveend zoomend', () => this.redraw());
  }

  setBasemap(doc: GeoJSON.FeatureCollection): void {
    L.geoJSON(doc, {
      style: { color: '#9a9a9a', weight: 1, fillColor: '#f2efe6', fillOpacity: 1 },
      interactive: false,
      pane: 'basemap',
      renderer: L.svg({ pane: 'basemap' }),
    } as L.GeoJSONOptions).addTo(this.map);
    this.map.attributionControl.addAttribution('Basemap: Natural Earth (public domain)');
  }

  setZones(zones: ZoneFeature[]): void {
    const byLayer = new Map<string, ZoneFeature[]>();
    for (const z of zones) {
      const layer = String(z.properties.layer ?? 'agreement');
      byLayer.set(layer, [...(byLayer.get(layer) ?? []), z]);
      if (layer === 'agreement' && z.id) this.zonesById.set(z.id, z);
    }
    const agreement = byLayer.get('agreement') ?? [];
    // One overlay per kind of zone of the agreement, drawn areas first, lines on top.
    for (const kind of ['governorate', 'area_of_limitation', 'area_of_separation', 'line']) {
      const fs = agreement.filter((z) => z.properties.kind === kind);
      if (!fs.length) continue;
      const { label, ...style } = ZONE_STYLES[kind];
      // Zones are few: SVG, so each is an element with a class (and a title for screen readers).
      const layer = L.geoJSON({ type: 'FeatureCollection', features: fs } as GeoJSON.FeatureCollection, {
        style: () => ({ ...style, className: `zone zone-${kind}` }),
        onEachFeature: (f, l) => l.bindTooltip(zoneLabel(f as ZoneFeature), { sticky: true }),
      }).addTo(this.map);
      this.control.addOverlay(layer, label + approximate(fs));
    }
    for (const [name, fs] of byLayer) {
      if (name === 'agreement') continue;
      const layer = L.geoJSON({ type: 'FeatureCollection', features: fs } as GeoJSON.FeatureCollection, {
        style: () => ({ ...CLAIMED_STYLE, className: `zone zone-claimed layer-${name}` }),
        onEachFeature: (f, l) => l.bindTooltip(`${zoneLabel(f as ZoneFeature)} (layer ${name})`, { sticky: true }),
      });
      this.control.addOverlay(layer, `Claimed: layer ${name}${approximate(fs)}`);
    }
    const bounds = L.geoJSON({ type: 'FeatureCollection', features: agreement } as GeoJSON.FeatureCollection).getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [10, 10] });
  }

  setPlaces(places: ZoneFeature[]): void {
    const layer = L.layerGroup();
    for (const p of places) {
      if (p.geometry.type !== 'Point') continue;
      const [lon, lat] = p.geometry.coordinates;
      L.circleMarker([lat, lon], { radius: 3, color: '#333', weight: 1, fillOpacity: 1, renderer: this.renderer })
        .bindTooltip(String(p.properties.name ?? ''), { permanent: false })
        .addTo(layer);
    }
    layer.addTo(this.map);
    this.control.addOverlay(layer, 'Named places (GeoNames)');
  }

  setNotices(areas: { label: string; geometry: GeoJSON.Geometry | null; zones: string[] }[]): void {
    this.noticeLayer.clearLayers();
    for (const a of areas) {
      const features: GeoJSON.Feature[] = [];
      if (a.geometry) features.push({ type: 'Feature', properties: {}, geometry: a.geometry });
      for (const z of a.zones) {
        const f = this.zonesById.get(z);
        if (f) features.push(f as GeoJSON.Feature);
      }
      if (!features.length) continue;
      L.geoJSON({ type: 'FeatureCollection', features } as GeoJSON.FeatureCollection, {
        style: { color: '#0571b0', weight: 2, fillColor: '#92c5de', fillOpacity: 0.25, dashArray: '4 2' },
      }).bindTooltip(a.label, { sticky: true }).addTo(this.noticeLayer);
    }
  }

  /** Shows these rows of the store; clusters them when they are dense. */
  setEvents(store: EventStore, rows: Uint32Array): void {
    this.store = store;
    const points: PointFeature[] = new Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      points[k] = { type: 'Feature', properties: { i }, geometry: { type: 'Point', coordinates: [store.lon[i], store.lat[i]] } };
    }
    this.index = new Supercluster({ radius: 40, maxZoom: 13, minPoints: 3 }).load(points);
    this.redraw();
  }

  private redraw(): void {
    const store = this.store;
    if (!store || !this.index) return;
    this.eventLayer.clearLayers();
    const b = this.map.getBounds();
    const zoom = Math.round(this.map.getZoom());
    const items: ClusterFeature[] = this.index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], zoom);
    for (const c of items) {
      const [lon, lat] = c.geometry.coordinates;
      if (c.properties.cluster) {
        const count = c.properties.point_count ?? 0;
        const m = L.circleMarker([lat, lon], {
          renderer: this.renderer,
          radius: 8 + Math.min(14, Math.log2(count) * 2),
          color: '#333', weight: 1, fillColor: '#777', fillOpacity: 0.6,
        }).bindTooltip(`${count} events (click to zoom in)`);
        const id = c.properties.cluster_id ?? 0;
        m.on('click', () => this.map.setView([lat, lon], Math.min(this.index?.getClusterExpansionZoom(id) ?? zoom + 2, 16)));
        m.addTo(this.eventLayer);
      } else {
        const i = c.properties.i ?? 0;
        const corr = CORROBORATION[store.corroboration[i]];
        const sev = store.severity[i];
        const m = L.circleMarker([lat, lon], {
          renderer: this.renderer,
          radius: 4 + sev * 2,
          color: sev > 0 ? '#000' : '#444',
          weight: sev > 0 ? 2 : 0.8,
          fillColor: CORROBORATION_COLOURS[corr],
          fillOpacity: 0.9,
        }).bindTooltip(`${store.types[store.type[i]]} by ${store.parties[store.perpetrator[i]]} — ${corr.replace('_', ' ')}${sev ? `; ${store.findingsOf.get(i)?.length} finding(s)` : ''}`);
        m.on('mouseover', () => this.showUncertainty(i));
        m.on('mouseout', () => this.hoverCircle?.remove());
        m.on('click', () => this.handlers.onEvent(i));
        m.addTo(this.eventLayer);
      }
    }
    this.drawnMarkers = items.length;
    this.map.getContainer().dataset.markers = String(items.length);
  }

  private showUncertainty(i: number): void {
    const s = this.store;
    if (!s) return;
    this.hoverCircle?.remove();
    this.hoverCircle = L.circle([s.lat[i], s.lon[i]], {
      radius: Math.max(s.precision[i], 1), color: '#333', weight: 1, fillOpacity: 0.08, dashArray: '3 3', interactive: false,
    }).addTo(this.map);
  }

  /** Outlines one event (the one whose finding or detail is open). */
  focus(i: number | null): void {
    this.highlight.clearLayers();
    const s = this.store;
    if (i === null || !s) return;
    L.circleMarker([s.lat[i], s.lon[i]], { radius: 16, color: '#d01c8b', weight: 3, fill: false, interactive: false, renderer: this.renderer })
      .addTo(this.highlight);
    this.map.panTo([s.lat[i], s.lon[i]]);
  }
}

function zoneLabel(z: ZoneFeature): string {
  const p = z.properties;
  const names = [p.name, p.name_ar, p.name_he].filter((x) => typeof x === 'string' && x);
  return names.join(' · ') + (p.approximate ? ' (approximate geometry)' : '');
}

function approximate(fs: ZoneFeature[]): string {
  return fs.some((z) => z.properties.approximate) ? ' — approximate' : '';
}
