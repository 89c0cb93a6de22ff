import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadState } from './server';

export default async function globalTeardown(): Promise<void> {
  const s = loadState();
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  rmSync(dirname(s.data), { recursive: true, force: true });
}
