// Starting and feeding a real truce server for the browser tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

export function truceBin(): string {
  const bin = process.env.TRUCE_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'truce');
  if (!existsSync(bin)) throw new Error(`no truce binary at ${bin}: run cargo build -p truce, or set TRUCE_BIN`);
  return resolve(bin);
}

/** Runs the CLI to completion, bounded in time; throws with its output on failure. */
export function truce(args: string[], timeoutMs = 600_000): string {
  const r = spawnSync(truceBin(), args, { cwd: repo, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) {
    throw new Error(`truce ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

export interface Running {
  url: string;
  data: string;
  pid: number;
  /** Read tokens by member id (sy.ops, il.ops, us.ops). */
  tokens: Record<string, string>;
}

/** `truce token create`: the token is the first line it prints. */
function token(data: string, member: string, scope: string): string {
  return truce(['token', 'create', '--data', data, '--member', member, '--scope', scope, '--expires', '1d']).split('\n')[0].trim();
}

/** `truce init --witnesses` (SY's, IL's and UNDOF's witnesses, run by the server on loopback, as
 * in the demo) + `truce serve --listen 127.0.0.1:0`, waiting (at most 30 s) for its address. */
export async function startServer(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'truce-web-'));
  const data = join(dir, 'm');
  truce(['init', '--witnesses', data]);
  const tokens: Record<string, string> = {};
  for (const m of ['sy.ops', 'il.ops', 'us.ops']) tokens[m] = token(data, m, 'write');
  const child = spawn(truceBin(), ['serve', '--data', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`truce serve did not start in 30 s: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on('exit', (code) => fail(new Error(`truce serve exited (${code}): ${out}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  return { url, data, pid: child.pid ?? 0, tokens };
}

/**
 * Feeds the server with simulated traffic (reports by both parties and UNDOF, denials), at
 * most about 60 incidents a day (the simulator's default density: a month for the demo's 300 or
 * 2,000; years for the performance runs, not tens of thousands of incidents crammed into one
 * month, which no real mechanism sees and which makes fusion's candidate search the bottleneck).
 */
export function simulate(s: Running, incidents: number, seed = 1974): void {
  const days = Math.max(30, Math.ceil(incidents / 60));
  truce(['--token', s.tokens['us.ops'], 'simulate', '--seed', String(seed), '--incidents', String(incidents), '--days', String(days),
    '--out', join(s.data, '..', `sim-${seed}`), '--server', s.url, '--keys', join(s.data, 'keys')], 3_600_000);
}

/** Global setup hands the server to the workers (its child processes) through the environment. */
export function saveState(s: Running): void {
  process.env.TRUCE_WEB_SERVER = JSON.stringify(s);
}

export function loadState(): Running {
  const s = process.env.TRUCE_WEB_SERVER;
  if (!s) throw new Error('no server: the global setup did not run');
  return JSON.parse(s);
}

/** Waits (at most `timeoutMs`) until the derived state has applied the whole log. */
export async function waitApplied(s: Running, timeoutMs: number): Promise<{ size: number; events: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const size = (await (await fetch(`${s.url}/healthz`)).json()).tree_size as number;
    const ev = await get(s, 'us.ops', '/v1/events?limit=1');
    if (ev.applied_size >= size) return { size, events: ev.total };
    if (Date.now() > deadline) throw new Error(`the derived state applied ${ev.applied_size} of ${size} entries in time`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** GET a JSON document from the server as a member. */
export async function get(s: Running, member: string, path: string): Promise<any> {
  const r = await fetch(`${s.url}${path}`, { headers: { Authorization: `Bearer ${s.tokens[member]}` } });
  if (!r.ok) throw new Error(`GET ${path} as ${member}: ${r.status} ${await r.text()}`);
  return r.json();
}
