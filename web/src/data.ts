// The events the map shows, held as columns in typed arrays so that 100,000 of them filter in
// a few milliseconds. Loaded from GET /v1/map (see crates/server/src/web.rs).

export const CORROBORATION = ['contradicted', 'single_source', 'one_party', 'cross_party', 'verified'] as const;
export const SEVERITY = ['low', 'medium', 'high', 'critical'] as const;

export interface MapFinding {
  id: string;
  rule: string;
  status: string;
  severity: string;
  party: string;
  layer: string | null;
  occurred: number;
  event: number | null;
  summary: string;
}

export interface MapDoc {
  applied_size: number;
  count: number;
  parties: string[];
  types: string[];
  zones: string[];
  columns: {
    id?: string[];
    lon?: number[];
    lat?: number[];
    start?: number[];
    end?: number[];
    precision_m?: number[];
    type?: number[];
    perpetrator?: number[];
    reporters?: number[][];
    corroboration?: string[];
    zones?: number[][];
    reports?: number[];
  };
  findings: MapFinding[];
}

export interface Filters {
  party: string;
  type: string;
  rule: string;
  status: string;
  corroboration: string;
  zone: string;
  layer: string;
  from: number;
  to: number;
}

export const NO_FILTERS: Filters = {
  party: '', type: '', rule: '', status: '', corroboration: '', zone: '', layer: '',
  from: -Infinity, to: Infinity,
};

export class EventStore {
  readonly n: number;
  readonly ids: string[];
  readonly lon: Float64Array;
  readonly lat: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly precision: Float64Array;
  readonly type: Uint16Array;
  readonly perpetrator: Uint16Array;
  /** Bit i set: party i reported it. */
  readonly reporters: Uint32Array;
  readonly corroboration: Uint8Array;
  /** Highest severity of a standing finding on the event, 1..4; 0 for none. */
  readonly severity: Uint8Array;
  readonly reports: Uint32Array;
  /** Zone hits per event (indices into `zoneNames`), flattened with offsets. */
  readonly zoneOffsets: Uint32Array;
  readonly zoneHits: Uint16Array;
  readonly parties: string[];
  readonly types: string[];
  readonly zoneNames: string[];
  readonly findings: MapFinding[];
  /** Findings per event row. */
  readonly findingsOf: Map<number, MapFinding[]>;
  readonly appliedSize: number;

  constructor(doc: MapDoc) {
    const c = doc.columns;
    const n = (this.n = doc.count);
    this.ids = c.id ?? [];
    this.lon = Float64Array.from(c.lon ?? []);
    this.lat = Float64Array.from(c.lat ?? []);
    this.start = Float64Array.from(c.start ?? []);
    this.end = Float64Array.from(c.end ?? []);
    this.precision = Float64Array.from(c.precision_m ?? []);
    this.type = Uint16Array.from(c.type ?? []);
    this.perpetrator = Uint16Array.from(c.perpetrator ?? []);
    this.reports = Uint32Array.from(c.reports ?? []);
    this.reporters = new Uint32Array(n);
    this.corroboration = new Uint8Array(n);
    this.severity = new Uint8Array(n);
    this.zoneOffsets = new Uint32Array(n + 1);
    const hits: number[] = [];
    for (let i = 0; i < n; i++) {
      for (const p of c.reporters?.[i] ?? []) if (p < 32) this.reporters[i] |= 1 << p;
      this.corroboration[i] = Math.max(0, CORROBORATION.indexOf((c.corroboration?.[i] ?? '') as never));
      for (const z of c.zones?.[i] ?? []) hits.push(z);
      this.zoneOffsets[i + 1] = hits.length;
    }
    this.zoneHits = Uint16Array.from(hits);
    this.parties = doc.parties;
    this.types = doc.types;
    this.zoneNames = doc.zones;
    this.findings = doc.findings;
    this.findingsOf = new Map();
    for (const f of doc.findings) {
      if (f.event === null) continue;
      const list = this.findingsOf.get(f.event) ?? [];
      list.push(f);
      this.findingsOf.set(f.event, list);
      const s = SEVERITY.indexOf(f.severity as never) + 1;
      if (s > this.severity[f.event]) this.severity[f.event] = s;
    }
    this.appliedSize = doc.applied_size;
  }

  /** Rows of the events that pass the filters, ascending. */
  filter(f: Filters): Uint32Array {
    const out = new Uint32Array(this.n);
    let k = 0;
    const party = f.party ? this.parties.indexOf(f.party) : -2;
    const type = f.type ? this.types.indexOf(f.type) : -2;
    const corr = f.corroboration ? CORROBORATION.indexOf(f.corroboration as never) : -2;
    // Zone and layer filters become a set of acceptable zone-hit ids.
    const zoneOk = new Uint8Array(this.zoneNames.length);
    const zoneFilter = f.zone !== '' || f.layer !== '';
    this.zoneNames.forEach((name, i) => {
      const [zone, layer] = name.split('@');
      zoneOk[i] = (f.zone === '' || zone === f.zone) && (f.layer === '' || layer === f.layer) ? 1 : 0;
    });
    const findingFilter = f.rule !== '' || f.status !== '';
    for (let i = 0; i < this.n; i++) {
      if (this.end[i] < f.from || this.start[i] > f.to) continue;
      if (party !== -2 && this.perpetrator[i] !== party && !(party >= 0 && this.reporters[i] & (1 << party))) continue;
      if (type !== -2 && this.type[i] !== type) continue;
      if (corr !== -2 && this.corroboration[i] !== corr) continue;
      if (zoneFilter) {
        let hit = false;
        for (let j = this.zoneOffsets[i]; j < this.zoneOffsets[i + 1]; j++) {
          if (zoneOk[this.zoneHits[j]]) {
            hit = true;
            break;
          }
        }
        if (!hit) continue;
      }
      if (findingFilter) {
        const fs = this.findingsOf.get(i);
        if (!fs || !fs.some((x) => (f.rule === '' || x.rule === f.rule) && (f.status === '' || x.status === f.status))) continue;
      }
      out[k++] = i;
    }
    return out.subarray(0, k);
  }

  /** Findings that pass the filters (those on events must be on a shown event). */
  filterFindings(f: Filters, shown: Uint32Array): MapFinding[] {
    const on = new Uint8Array(this.n);
    for (const i of shown) on[i] = 1;
    return this.findings.filter((x) => {
      if (x.event !== null) return on[x.event] === 1 && (f.rule === '' || x.rule === f.rule) && (f.status === '' || x.status === f.status);
      return (
        (f.party === '' || x.party === f.party) &&
        (f.rule === '' || x.rule === f.rule) &&
        (f.status === '' || x.status === f.status) &&
        x.occurred >= f.from && x.occurred <= f.to
      );
    });
  }
}
