// The dashboard's entry point: loads the mechanism and the events, wires the map, the
// timeline, the filters and the panels, and follows the log live.
import { ApiError, followSse, getJson, getText, signIn, signOut, token } from './api';
import { CORROBORATION, EventStore, Filters, MapDoc, NO_FILTERS } from './data';
import { CORROBORATION_COLOURS, TruceMap, ZoneFeature } from './map';
import {
  casesPanel, disputesPanel, eventDetail, findingDetail, findingList, h, loadBoard, logPanel,
  noticesPanel, scorecardsPanel,
} from './panels';
import { Timeline } from './timeline';
import type { Witnesses } from './verify';
import L from 'leaflet';

const STATUSES = ['alleged', 'corroborated', 'disputed', 'upheld', 'dismissed', 'expired', 'missed'];
const POLL_MS = 2000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Mechanism {
  origin: string;
  verifier_key: string;
  tree_size: number;
  agreement: {
    parties: { id: string; name: string; role: string }[];
    rules: { id: string; title: string }[];
    witnesses?: Witnesses | null;
  } | null;
  zones: { features: ZoneFeature[] } | null;
  places: { features: ZoneFeature[] } | null;
}

class App {
  private store: EventStore | null = null;
  private filters: Filters = { ...NO_FILTERS };
  private shown: Uint32Array = new Uint32Array(0);
  private readonly map: TruceMap;
  private readonly timeline: Timeline;
  private treeSize = 0;
  private loading = false;
  private stream = false;
  /** The viewer's party, as the hotline answers it for the token. */
  private party: string | null = null;
  private firstLoad = true;

  constructor(private readonly mech: Mechanism) {
    this.map = new TruceMap($('map'), { onEvent: (row) => this.openEvent(row) });
    this.timeline = new Timeline($('histogram'), $('from'), $('to'), $('window'), (from, to) => {
      this.filters = { ...this.filters, from, to };
      this.apply('time');
    });
    this.treeSize = mech.tree_size;
  }

  async start(): Promise<void> {
    $('origin').textContent = this.mech.origin;
    this.party = await getJson<{ party: string }>(`/v1/stream/alerts?limit=1&after=${Math.max(0, this.treeSize - 1)}`)
      .then((a) => a.party)
      .catch(() => null);
    this.wireTabs();
    this.wireSignIn();
    this.addLegend();
    const parties = this.mech.agreement?.parties ?? [];
    const zones = this.mech.zones?.features ?? [];
    fill('party', parties.map((p) => [p.id, `${p.id} — ${p.name}`]));
    fill('rule', (this.mech.agreement?.rules ?? []).map((r) => [r.id, r.title]));
    fill('status', STATUSES.map((s) => [s, s]));
    fill('corroboration', CORROBORATION.map((c) => [c, c.replace('_', ' ')]));
    fill('zone', [...new Set(zones.map((z) => String(z.id)))].map((z) => [z, z]));
    fill('layer', [...new Set(zones.map((z) => String(z.properties.layer ?? 'agreement')))].map((l) => [l, l]));
    const form = $<HTMLFormElement>('filters');
    form.addEventListener('change', () => this.readFilters());
    form.addEventListener('reset', () => setTimeout(() => this.readFilters(), 0));

    getJson<GeoJSON.FeatureCollection>('/assets/basemap.json').then((b) => this.map.setBasemap(b)).catch(() => undefined);
    this.map.setZones(zones);
    this.map.setPlaces(this.mech.places?.features ?? []);
    await this.loadEvents();
    await nextPaint();
    document.body.dataset.firstPaintMs = performance.now().toFixed(0);
    document.body.dataset.ready = 'true';
    $('live').textContent = `live · ${this.treeSize.toLocaleString('en')} entries`;
    this.loadPanels();
    this.follow();
    // Deep links: #finding=<id> opens that finding.
    const route = () => {
      const m = /^#finding=(.+)$/.exec(location.hash);
      if (m) void this.openFinding(decodeURIComponent(m[1]));
    };
    window.addEventListener('hashchange', route);
    route();
  }

  private async loadEvents(): Promise<void> {
    const t0 = performance.now();
    const doc = await getJson<MapDoc>('/v1/map');
    const t1 = performance.now();
    this.store = new EventStore(doc);
    // Where the first paint goes (reported by the performance test).
    document.body.dataset.mapFetchMs = (t1 - t0).toFixed(0);
    document.body.dataset.storeMs = (performance.now() - t1).toFixed(0);
    fill('type', doc.types.map((t) => [t, t.replaceAll('_', ' ')]), true);
    this.apply('load');
  }

  private readFilters(): void {
    const data = new FormData($<HTMLFormElement>('filters'));
    const get = (k: string) => String(data.get(k) ?? '');
    this.filters = {
      ...this.filters,
      party: get('party'), type: get('type'), rule: get('rule'), status: get('status'),
      corroboration: get('corroboration'), zone: get('zone'), layer: get('layer'),
    };
    this.apply('filter');
  }

  /** Filters the events and findings and redraws the map, the histogram and the list. */
  private apply(why: string): void {
    const store = this.store;
    if (!store) return;
    const t0 = performance.now();
    this.shown = store.filter(this.filters);
    const findings = store.filterFindings(this.filters, this.shown);
    this.map.setEvents(store, this.shown);
    if (why !== 'time') {
      // The histogram shows everything but the time window (the brush is that filter).
      const all = store.filter({ ...this.filters, from: -Infinity, to: Infinity });
      this.timeline.setData(store, store.filterFindings({ ...this.filters, from: -Infinity, to: Infinity }, all), all);
      if (why === 'load' && this.firstLoad) {
        this.timeline.setWindow(-Infinity, Infinity, false);
        this.firstLoad = false;
      }
    }
    $('counts').textContent = `${this.shown.length.toLocaleString('en')} of ${store.n.toLocaleString('en')} events, ${findings.length.toLocaleString('en')} findings shown`;
    document.body.dataset.shown = String(this.shown.length);
    $('finding-list').replaceChildren(findingList(findings, (id) => this.openFinding(id)));
    const computed = performance.now() - t0;
    nextPaint().then(() => {
      document.body.dataset.filterMs = (performance.now() - t0).toFixed(1);
      document.body.dataset.filterComputeMs = computed.toFixed(1);
      document.body.dataset.applied = String(Number(document.body.dataset.applied ?? 0) + 1);
    });
  }

  private showTab(name: string): void {
    for (const tab of document.querySelectorAll<HTMLElement>('[role=tab]')) {
      const on = tab.id === `tab-${name}`;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute('aria-controls') ?? '').hidden = !on;
    }
  }

  private wireTabs(): void {
    const tabs = [...document.querySelectorAll<HTMLElement>('[role=tab]')];
    tabs.forEach((tab, k) => {
      tab.tabIndex = k === 0 ? 0 : -1;
      tab.addEventListener('click', () => this.showTab(tab.id.slice(4)));
      tab.addEventListener('keydown', (e) => {
        const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!step) return;
        const next = tabs[(k + step + tabs.length) % tabs.length];
        next.focus();
        this.showTab(next.id.slice(4));
      });
    });
  }

  private wireSignIn(): void {
    wireSignInForm();
    $('signed').textContent = this.party ? `signed in, party ${this.party}` : 'signed in';
    $('dir').addEventListener('click', () => {
      const rtl = document.documentElement.dir !== 'rtl';
      document.documentElement.dir = rtl ? 'rtl' : 'ltr';
      $('dir').setAttribute('aria-pressed', String(rtl));
    });
  }

  private addLegend(): void {
    const legend = new L.Control({ position: 'bottomleft' });
    legend.onAdd = () => h('div', { class: 'legend', role: 'group', 'aria-label': 'Legend' },
      h('strong', {}, 'Events by corroboration'),
      ...CORROBORATION.map((c) => h('div', {}, h('span', { class: 'dot', style: `background:${CORROBORATION_COLOURS[c]}` }), ` ${c.replace('_', ' ')}`)),
      h('div', {}, 'Size: severity of its worst finding; black ring: has findings; grey discs: clusters'),
      h('div', { class: 'muted' }, 'All zone geometry is approximate (Natural Earth and OCHA data), not the official 1974 map.'));
    legend.addTo(this.map.map);
  }

  private async openEvent(row: number): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.map.focus(row);
    this.showTab('detail');
    await eventDetail($('panel-detail'), store, row, (id) => this.openFinding(id)).catch((e) => this.error(e));
  }

  async openFinding(id: string): Promise<void> {
    this.showTab('detail');
    const row = this.store?.findings.find((f) => f.id === id)?.event ?? null;
    this.map.focus(row);
    await findingDetail($('panel-detail'), id, this.mech.verifier_key).catch((e) => this.error(e));
  }

  private error(e: unknown): void {
    $('panel-detail').append(h('p', { class: 'fail', role: 'alert' }, String((e as Error).message ?? e)));
  }

  private async loadPanels(): Promise<void> {
    const viewer = this.party;
    try {
      const board = await loadBoard();
      noticesPanel($('panel-notices'), board, viewer);
      disputesPanel($('panel-disputes'), board, (id) => this.openFinding(id));
      casesPanel($('panel-cases'), board);
      this.map.setNotices(board.notices.filter((n) => n.status !== 'withdrawn' && n.status !== 'amended').map((n) => ({
        label: `Notice ${n.index} by ${n.party} (${n.status}): ${time(n.start)} – ${time(n.end)}`,
        geometry: n.area.geometry ?? null,
        zones: n.area.zones ?? [],
      })));
      if (viewer && !this.stream) {
        this.alerts(board.notices.filter((n) => ['filed', 'delivered'].includes(n.addressee_status[viewer] ?? ''))
          .map((n) => `Notice ${n.index} from ${n.party} awaits your answer (due ${time(n.answer_due)})`));
      }
    } catch (e) {
      $('panel-notices').textContent = String(e);
    }
    scorecardsPanel($('panel-scorecards')).catch((e) => ($('panel-scorecards').textContent = String(e)));
    logPanel($('panel-log'), this.mech.verifier_key, this.mech.agreement?.witnesses ?? null).catch((e) => ($('panel-log').textContent = String(e)));
  }

  private alerts(messages: string[]): void {
    if (!messages.length) return;
    document.body.dataset.alerts = String(Number(document.body.dataset.alerts ?? 0) + messages.length);
    const banner = $('banner');
    const close = h('button', { type: 'button', 'aria-label': 'Dismiss the alerts' }, '×');
    close.addEventListener('click', () => (banner.hidden = true));
    banner.replaceChildren(h('span', {}, messages.slice(0, 3).join(' · ') + (messages.length > 3 ? ` (+${messages.length - 3})` : '')), close);
    banner.hidden = false;
  }

  /**
   * Alerts addressed to the viewer's party, from the server's hotline (Server-Sent Events),
   * from the current log size on. EventSource resumes with Last-Event-ID by itself.
   */
  private subscribe(): void {
    if (!this.party) return;
    this.stream = true;
    void followSse(
      `/v1/stream?after=${Math.max(0, this.treeSize - 1)}`,
      (event, data) => {
        if (event !== 'alerts') return;
        const msg = JSON.parse(data) as AlertMessage;
        this.alerts(msg.alerts.map((a) => `${a.type.replaceAll('_', ' ')}: ${a.summary}`));
      },
      () => (document.body.dataset.stream = 'open'),
    );
  }

  /** Follows the log: every new checkpoint reloads the derived views without a page reload. */
  private follow(): void {
    this.subscribe();
    const live = $('live');
    const tick = async () => {
      try {
        const note = await getText('/log/checkpoint');
        const size = Number(note.split('\n')[1]);
        live.textContent = `live · ${size.toLocaleString('en')} entries`;
        if (size !== this.treeSize && !this.loading) {
          this.loading = true;
          this.treeSize = size;
          await waitApplied(size);
          await this.loadEvents();
          document.body.dataset.live = String(size);
          await this.loadPanels();
          this.loading = false;
        }
      } catch (e) {
        live.textContent = `connection lost (${(e as Error).message}); retrying`;
        this.loading = false;
      }
      setTimeout(tick, POLL_MS);
    };
    setTimeout(tick, POLL_MS);
  }
}

/** One SSE message of GET /v1/stream: the alerts one log entry raised for the party. */
interface AlertMessage {
  index: number;
  alerts: { type: string; subject: string; against?: string; status?: string; summary: string }[];
}

/** The derived state trails the log by the apply stage; wait (briefly) until it caught up. */
async function waitApplied(size: number): Promise<void> {
  for (let k = 0; k < 20; k++) {
    const c = await getJson<{ applied_size: number }>('/v1/events?limit=1').catch(() => null);
    if (c && c.applied_size >= size) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function time(t: string): string {
  return t.replace('T', ' ').replace(':00Z', 'Z');
}

function fill(name: string, options: string[][], replace = false): void {
  const select = document.querySelector<HTMLSelectElement>(`#filters select[name=${name}]`);
  if (!select) return;
  const keep = select.value;
  if (replace) select.replaceChildren(new Option('all', ''));
  for (const [value, label] of options) select.append(new Option(label, value));
  select.value = keep;
}

function nextPaint(): Promise<void> {
  return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
}

function wireSignInForm(): void {
  $<HTMLFormElement>('signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $<HTMLInputElement>('token').value.trim();
    if (t) signIn(t);
    $<HTMLInputElement>('token').value = '';
    location.reload();
  });
  $('signout').addEventListener('click', () => {
    signOut();
    location.reload();
  });
}

async function main(): Promise<void> {
  try {
    const mech = await getJson<Mechanism>('/v1/mechanism');
    await new App(mech).start();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // Reading needs a member's API token (`truce token create`; the demo prints one per member).
      wireSignInForm();
      $('signed').textContent = token() ? 'the token was refused: sign in again' : 'not signed in';
      document.body.dataset.signin = 'needed';
      $('panel-filters').prepend(h('p', { class: 'fail', role: 'alert' },
        `Sign in with your API token (made with truce token create; truce demo prints one per demo member). ${(e as Error).message}`));
      $<HTMLInputElement>('token').focus();
      return;
    }
    document.body.prepend(h('p', { class: 'fail', role: 'alert' }, `The dashboard could not start: ${(e as Error).message}`));
  }
}

document.addEventListener('DOMContentLoaded', main);
