import { saveState, simulate, startServer } from './server';

export default async function globalSetup(): Promise<void> {
  const incidents = Number(process.env.TRUCE_PERF_EVENTS ?? process.env.TRUCE_WEB_INCIDENTS ?? 300);
  const s = await startServer();
  saveState(s);
  const t0 = Date.now();
  try {
    simulate(s, incidents);
  } catch (e) {
    process.kill(s.pid, 'SIGTERM');
    throw e;
  }
  console.log(`truce serve at ${s.url}: ${incidents} simulated incidents submitted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
