import { saveState, simulate, startServer, waitApplied } from './server';

export default async function globalSetup(): Promise<void> {
  const incidents = Number(process.env.TRUCE_PERF_INCIDENTS ?? process.env.TRUCE_WEB_INCIDENTS ?? 300);
  const s = await startServer();
  saveState(s);
  const t0 = Date.now();
  let applied;
  try {
    simulate(s, incidents);
    // The apply stage (fusion) is the slow part of a large load: about 130 entries/s on a
    // shared 2-vCPU machine; give a performance load hours, the CI load minutes.
    applied = await waitApplied(s, process.env.TRUCE_PERF_INCIDENTS ? 4 * 3_600_000 : 600_000);
  } catch (e) {
    process.kill(s.pid, 'SIGTERM');
    throw e;
  }
  console.log(`truce serve at ${s.url}: ${incidents} simulated incidents submitted and applied in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${applied.size} log entries, ${applied.events} events`);
}
