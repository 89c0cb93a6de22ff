// The side panels: event detail, finding detail with in-browser verification, the notices
// board, the disputes inbox, cases, scorecards and the log view. Everything is built with DOM
// calls (textContent, never innerHTML with data), so no report text can inject markup.
import { getJson, getText } from './api';
import type { EventStore, MapFinding } from './data';
import { Receipt, Witnesses, judgeCosignatures, verifyCheckpoint, verifyReceipt, hex } from './verify';

type Child = Node | string | null | undefined | false;

export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function table(head: string[], rows: Child[][], caption: string): HTMLElement {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

const time = (t: string | number | null | undefined) =>
  t === null || t === undefined ? '—' : (typeof t === 'number' ? new Date(t * 1000).toISOString() : t).replace('.000Z', 'Z').replace(':00Z', 'Z').replace('T', ' ');

interface EntryDoc {
  index: number;
  entry: { kind: string; author: string; created: string; body: Record<string, any> };
}

export async function eventDetail(el: HTMLElement, store: EventStore, row: number, openFinding: (id: string) => void): Promise<void> {
  const id = store.ids[row];
  const ev = await getJson<{ events: any[] }>(`/v1/events?limit=20&merged=true&from=${new Date(store.start[row] * 1000).toISOString().slice(0, 19)}Z&to=${new Date(store.end[row] * 1000).toISOString().slice(0, 19)}Z&bbox=${store.lon[row]},${store.lat[row]},${store.lon[row]},${store.lat[row]}`)
    .then((d) => d.events.find((e) => e.id === id) ?? null)
    .catch(() => null);
  const findings = store.findingsOf.get(row) ?? [];
  el.replaceChildren(
    h('h2', {}, `Event ${id}`),
    h('dl', {},
      h('dt', {}, 'Type'), h('dd', {}, store.types[store.type[row]]),
      h('dt', {}, 'Attributed to'), h('dd', {}, `${store.parties[store.perpetrator[row]]}${ev ? ` (${ev.attribution_support}% of graded weight)` : ''}`),
      h('dt', {}, 'When'), h('dd', {}, `${time(store.start[row])} – ${time(store.end[row])}`),
      h('dt', {}, 'Where'), h('dd', {}, `${store.lat[row].toFixed(4)}, ${store.lon[row].toFixed(4)} ± ${store.precision[row]} m${ev?.place ? ` (${ev.place})` : ''}`),
      h('dt', {}, 'Corroboration'), h('dd', {}, ev?.corroboration ?? ''),
      h('dt', {}, 'Confirmed by'), h('dd', {}, (ev?.confirmed_by ?? []).join(', ') || 'nobody'),
      h('dt', {}, 'Denied by'), h('dd', {}, (ev?.denied_by ?? []).join(', ') || 'nobody'),
      h('dt', {}, 'Zones'), h('dd', {}, (ev?.zones ?? []).map((z: any) => `${z.zone} (${z.layer}, ${z.certainty})`).join('; ') || 'none'),
    ),
    h('h3', {}, `Findings (${findings.length})`),
    findingList(findings, openFinding),
    h('h3', {}, `Reports supporting it (${store.reports[row]})`),
    h('p', { class: 'muted' }, 'Denials are recorded as sightings by the denying party (listed above under “Denied by”).'),
  );
  const reports: number[] = (ev?.reports ?? []).slice(0, 50);
  const docs = await Promise.all(reports.map((i) => getJson<EntryDoc>(`/v1/entries/${i}`).catch(() => null)));
  el.append(table(['entry', 'filed by', 'signed at', 'grade', 'perpetrator', 'narrative', 'need-to-know part'],
    docs.filter((d): d is EntryDoc => d !== null).map((d) => [
      String(d.index), d.entry.author, time(d.entry.created),
      d.entry.body.grading ? `${d.entry.body.grading.source_reliability}${d.entry.body.grading.information_credibility}` : '—',
      String(d.entry.body.perpetrator ?? ''), String(d.entry.body.narrative ?? '').slice(0, 160),
      sealedCell(d.entry.body.sealed, d.index),
    ]), 'Reports (log entries) on this event'));
}

export function findingList(findings: MapFinding[], open: (id: string) => void, limit = 200): HTMLElement {
  const ul = h('ul', { class: 'findings' });
  for (const f of findings.slice(0, limit)) {
    const b = h('button', { type: 'button', class: `finding status-${f.status}`, 'data-finding': f.id },
      h('span', { class: 'badge' }, f.status), ` ${f.rule} · ${f.party} · ${time(f.occurred)}`);
    b.addEventListener('click', () => open(f.id));
    ul.append(h('li', {}, b));
  }
  if (findings.length > limit) ul.append(h('li', { class: 'muted' }, `… and ${findings.length - limit} more (narrow the filters)`));
  return ul;
}

/** A need-to-know part as the server shows it to this caller (`readable`: sealed to them). */
interface Sealed {
  recipients: string[];
  readable?: boolean;
}

function sealedCell(s: Sealed | null | undefined, index: number): string {
  if (!s) return '—';
  return s.readable
    ? `sealed to ${s.recipients.join(', ')}; readable by you: truce unseal ${index}`
    : `sealed to ${s.recipients.join(', ')}; not readable by you`;
}

interface FindingDoc {
  finding: any;
  rule: any;
  event: any;
  disputes: { index: number; dispute: any }[];
  rulings: { index: number; ruling: any }[];
  evidence: { index: number; kind: string; author: string; created: string; envelope: string; receipt: Receipt; sealed?: Sealed | null }[];
}

export async function findingDetail(el: HTMLElement, id: string, vkey: string): Promise<any> {
  const doc = await getJson<FindingDoc>(`/v1/findings/${encodeURIComponent(id)}`);
  const f = doc.finding;
  const result = h('div', { id: 'verify-result', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'verify' }, 'Verify the evidence in this browser');
  button.addEventListener('click', async () => {
    result.className = 'pending';
    result.textContent = 'verifying…';
    try {
      let cp = null;
      for (const e of doc.evidence) cp = await verifyReceipt(e.envelope, e.receipt, vkey);
      result.className = 'ok';
      result.textContent = cp
        ? `Verified: ${doc.evidence.length === 1 ? 'the evidence entry' : `all ${doc.evidence.length} evidence entries`} (${doc.evidence.map((e) => e.index).join(', ')}) ${doc.evidence.length === 1 ? 'is the entry' : 'are the entries'} the log holds ` +
          `(leaf hashes), included in the tree of ${cp.size} entries with root ${hex(cp.root).slice(0, 16)}… (inclusion proofs), ` +
          `whose checkpoint is signed by ${cp.origin} with the verifier key of this mechanism (Ed25519, WebCrypto). ` +
          `Not checked here: that the rule was applied correctly (run truce replay for that).`
        : 'Nothing to verify: this finding lists no evidence entries.';
    } catch (err) {
      result.className = 'fail';
      result.textContent = `Verification FAILED: ${(err as Error).message}`;
    }
  });
  el.replaceChildren(
    h('h2', {}, `Finding ${f.id}`),
    h('p', {}, h('span', { class: `badge status-${f.status}` }, f.status), ` ${f.summary}`),
    h('dl', {},
      h('dt', {}, 'Rule'), h('dd', {}, `${doc.rule?.title ?? f.rule} (${f.rule_kind}, severity ${f.severity})`),
      h('dt', {}, 'Source of the rule'), h('dd', {}, doc.rule?.source ?? '—'),
      h('dt', {}, 'Party held responsible'), h('dd', {}, f.party),
      h('dt', {}, 'Layer, certainty'), h('dd', {}, `${f.layer ?? 'independent of geometry'}, ${f.certainty}`),
      h('dt', {}, 'Occurred'), h('dd', {}, time(f.occurred)),
      h('dt', {}, 'Disputable until'), h('dd', {}, time(f.dispute_until)),
    ),
    h('h3', {}, 'Evidence chain'),
    table(['entry', 'kind', 'author', 'signed at', 'need-to-know part'],
      doc.evidence.map((e) => [String(e.index), e.kind, e.author, time(e.created), sealedCell(e.sealed, e.index)]),
      'Log entries the finding rests on'),
    button, result,
    h('h3', {}, 'Status history'),
    table(['at', 'status', 'entry', 'why'], (f.history ?? []).map((t: any) => [time(t.at), t.status, String(t.index), t.reason]), 'Transitions'),
    h('h3', {}, 'Disputes and rulings'),
    doc.disputes.length || doc.rulings.length
      ? table(['entry', 'what', 'by', 'at', 'text'], [
        ...doc.disputes.map((d) => [String(d.index), d.dispute.appeal ? 'appeal' : 'dispute', d.dispute.author, time(d.dispute.filed), d.dispute.reasons]),
        ...doc.rulings.map((r) => [String(r.index), `ruling: ${r.ruling.decision}`, r.ruling.author, time(r.ruling.at), r.ruling.reasons]),
      ], 'Disputes and rulings on this finding')
      : h('p', { class: 'muted' }, 'None.'),
  );
  return doc;
}

export interface Notice {
  index: number;
  party: string;
  activity: string;
  area: { zones?: string[]; geometry?: GeoJSON.Geometry };
  start: string;
  end: string;
  addressees: string[];
  answer_due: string;
  addressee_status: Record<string, string>;
  conditions?: Record<string, unknown>;
  status: string;
}

export interface Board {
  notices: Notice[];
  cases: { index: number; reported_by: string; detaining_party: string; commitment: string; reported: string; status: string; recipients?: string[] }[];
  disputed: { id: string; rule: string; party: string; occurred: string; summary: string; history: { at: string; status: string; index: number }[] }[];
}

/** Notices, cases and disputed findings (the first 1,000 of each, the API's page limit). */
export async function loadBoard(): Promise<Board> {
  const [n, c, d] = await Promise.all([
    getJson<{ notices: Notice[] }>('/v1/notices?limit=1000'),
    getJson<{ cases: Board['cases'] }>('/v1/cases?limit=1000'),
    getJson<{ findings: Board['disputed'] }>('/v1/findings?status=disputed&limit=1000'),
  ]);
  return { notices: n.notices, cases: c.cases, disputed: d.findings };
}

function countdown(to: string): HTMLElement {
  const el = h('span', { class: 'timer', 'data-until': to });
  tickTimer(el);
  return el;
}

function tickTimer(el: HTMLElement): void {
  const ms = Date.parse(el.dataset.until ?? '') - Date.now();
  const abs = Math.abs(ms) / 1000;
  const d = Math.floor(abs / 86400);
  const hh = Math.floor((abs % 86400) / 3600);
  const mm = Math.floor((abs % 3600) / 60);
  const text = `${d ? `${d} d ` : ''}${hh} h ${mm} min`;
  el.textContent = ms >= 0 ? `in ${text}` : `${text} ago`;
}

setInterval(() => document.querySelectorAll<HTMLElement>('.timer').forEach(tickTimer), 30_000);

const AWAITING = ['filed', 'delivered'];

export function noticesPanel(el: HTMLElement, board: Board, viewer: string | null): void {
  const open = board.notices.filter((n) => n.status !== 'withdrawn' && n.status !== 'amended');
  const awaiting = open.filter((n) => AWAITING.includes(n.status));
  const answered = open.filter((n) => !AWAITING.includes(n.status));
  const row = (n: Notice) => [
    String(n.index), n.party, n.activity.replaceAll('_', ' '),
    (n.area.zones ?? []).join(', ') || 'drawn area',
    h('span', {}, time(n.start), ' (', countdown(n.start), ')'),
    h('span', {}, time(n.end), ' (', countdown(n.end), ')'),
    h('span', {}, time(n.answer_due), ' (', countdown(n.answer_due), ')'),
    `${n.status}: ` + Object.entries(n.addressee_status).map(([a, st]) => `${a} ${st.replaceAll('_', ' ')}`).join('; ') +
      (n.conditions && Object.keys(n.conditions).length ? `; conditions: ${JSON.stringify(n.conditions)}` : ''),
  ];
  const head = ['entry', 'from', 'activity', 'area', 'starts', 'ends', 'answers due', 'status'];
  const mine = viewer ? awaiting.filter((n) => AWAITING.includes(n.addressee_status[viewer] ?? '')).length : 0;
  el.replaceChildren(
    h('h2', {}, 'Notices'),
    viewer ? h('p', {}, `Awaiting an answer from ${viewer}: ${mine}`) : '',
    table(head, awaiting.map(row), `Awaiting an answer (${awaiting.length})`),
    table(head, answered.map(row), `Answered or expired (${answered.length})`),
  );
}

export function disputesPanel(el: HTMLElement, board: Board, open: (id: string) => void): void {
  el.replaceChildren(
    h('h2', {}, 'Disputes inbox'),
    table(['finding', 'against', 'occurred', 'disputed at'], board.disputed.map((f) => {
      const b = h('button', { type: 'button', class: 'link' }, f.id);
      b.addEventListener('click', () => open(f.id));
      const at = [...f.history].reverse().find((t) => t.status === 'disputed')?.at;
      return [b, f.party, time(f.occurred), time(at)];
    }), `Findings disputed, awaiting a ruling (${board.disputed.length})`),
  );
}

export function casesPanel(el: HTMLElement, board: Board): void {
  el.replaceChildren(
    h('h2', {}, 'Civilian cases'),
    h('p', { class: 'muted' }, 'Status only. The personal record is sealed (encrypted) to the members named; the server and this page never hold it in clear.'),
    table(['entry', 'reported by', 'detaining party', 'commitment', 'reported', 'status', 'record sealed to'],
      board.cases.map((c) => [String(c.index), c.reported_by, c.detaining_party, c.commitment, time(c.reported), c.status.replaceAll('_', ' '), (c.recipients ?? []).join(', ') || '—']),
      `Cases (${board.cases.length})`),
  );
}

interface Card { party: string; rule: string; period: string; findings: Record<string, number>; deadlines_met: number; deadlines_missed: number; disputes_filed: number; disputes_won: number; disputes_lost: number }

export async function scorecardsPanel(el: HTMLElement): Promise<void> {
  const doc = await getJson<{ scorecards: Card[] }>('/v1/scorecards?limit=1000');
  const byParty = new Map<string, Card[]>();
  for (const c of doc.scorecards) byParty.set(c.party, [...(byParty.get(c.party) ?? []), c]);
  el.replaceChildren(h('h2', {}, 'Scorecards'));
  for (const [party, cards] of byParty) {
    const rules = [...new Set(cards.map((c) => c.rule))].sort();
    const periods = [...new Set(cards.map((c) => c.period))].sort();
    el.append(h('h3', {}, party));
    const total = (c: Card) => Object.values(c.findings).reduce((a, b) => a + b, 0);
    for (const rule of rules) {
      const series = periods.map((p) => cards.find((c) => c.rule === rule && c.period === p));
      el.append(h('div', { class: 'card' },
        h('strong', {}, rule), ' ',
        sparkBars(series.map((c) => (c ? total(c) : 0)), periods, `Findings per month against ${party} under ${rule}`),
        h('span', { class: 'muted' }, ' ' + series.map((c, k) => `${periods[k]}: ${c ? total(c) : 0} findings${c && (c.deadlines_met + c.deadlines_missed) ? `, deadlines ${c.deadlines_met} met / ${c.deadlines_missed} missed` : ''}${c?.disputes_filed ? `, disputes ${c.disputes_filed} (${c.disputes_won} won, ${c.disputes_lost} lost)` : ''}`).join('; ')),
      ));
    }
  }
}

function sparkBars(values: number[], labels: string[], title: string): SVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = Math.max(40, values.length * 14);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', '24');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const max = Math.max(1, ...values);
  values.forEach((v, k) => {
    const r = document.createElementNS(ns, 'rect');
    const bh = (v / max) * 22;
    r.setAttribute('x', String(k * 14));
    r.setAttribute('y', String(24 - bh));
    r.setAttribute('width', '11');
    r.setAttribute('height', String(bh));
    r.setAttribute('fill', '#4a6fa5');
    const t = document.createElementNS(ns, 'title');
    t.textContent = `${labels[k]}: ${v}`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

export async function logPanel(el: HTMLElement, vkey: string, witnesses: Witnesses | null): Promise<void> {
  const note = await getText('/log/checkpoint');
  const commitment = await getJson<{ size: number; state_hash: string | null }>('/v1/state/commitment').catch(() => null);
  let status: string;
  let cp = null;
  try {
    cp = await verifyCheckpoint(note, vkey);
    status = `signature verified in this browser with ${vkey.split('+')[0]}'s key`;
  } catch (err) {
    status = `NOT verified: ${(err as Error).message}`;
  }
  let cosignatures: string;
  if (!witnesses) {
    cosignatures = 'the agreement names no witnesses: the log\'s signature alone vouches for this checkpoint';
  } else {
    try {
      const v = await judgeCosignatures(note, witnesses, Date.now() / 1000);
      const who = v.cosigned.map((c) => `${c.party} (${c.name}) at ${new Date(c.timestamp * 1000).toISOString().slice(11, 19)}Z`).join(', ');
      const age = v.newest === null ? '' : `, newest ${Math.max(0, Math.round(Date.now() / 1000 - v.newest))} s old`;
      cosignatures = v.problem
        ? `witness policy NOT met: ${v.problem}${who ? ` (verified: ${who})` : ''}`
        : `witness policy met, verified in this browser: ${who}${age}`;
    } catch (err) {
      cosignatures = `NOT verified: ${(err as Error).message}`;
    }
  }
  el.replaceChildren(
    h('h2', {}, 'The log'),
    h('dl', {},
      h('dt', {}, 'Tree size'), h('dd', { id: 'tree-size' }, cp ? String(cp.size) : '?'),
      h('dt', {}, 'Root'), h('dd', { class: 'mono' }, cp ? hex(cp.root) : '?'),
      h('dt', {}, 'Checkpoint'), h('dd', {}, status),
      h('dt', {}, 'Witnesses'), h('dd', { id: 'witness-status' }, cosignatures),
      h('dt', {}, 'State commitment'), h('dd', { class: 'mono' }, commitment ? `${commitment.size} entries: ${commitment.state_hash ?? '?'}` : 'none yet'),
      h('dt', {}, 'Verifier key'), h('dd', { class: 'mono' }, vkey),
    ),
    h('pre', { class: 'mono' }, note),
  );
}
