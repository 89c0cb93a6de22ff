import { saveState, simulate, startServer, waitApplied } from './server';

export default async function globalSetup(): Promise<void> {
  const incidents = Number(process.env.TRUCE_PERF_INCIDENTS ?? process.env.TRUCE_WEB_INCIDENTS ?? 300);
  const s = await startServer();
  saveState(s);
  const t0 = Date.now();
  let applied;
  try {
    simulate(s, incidents);
    applied = await waitApplied(s, 1_800_000);
  } catch (e) {
    process.kill(s.pid, 'SIGTERM');
    throw e;
  }
  console.log(`truce serve at ${s.url}: ${incidents} simulated incidents submitted and applied in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${applied.size} log entries, ${applied.events} events`);
}
