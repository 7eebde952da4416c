/**
 * Helpers of the lab integration tests: scrape a lab process's /metrics and sum series by name and
 * labels, drive requests at the frontend, and a fresh state file per test file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

export async function scrape(baseUrl: string): Promise<Sample[]> {
  const r = await fetch(`${baseUrl}/metrics`);
  if (!r.ok) throw new Error(`scrape ${baseUrl}: ${r.status}`);
  return parseProm(await r.text());
}

/** Sum of the series called `name` whose labels include `where`. */
export function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

export async function metric(baseUrl: string, name: string, where: Record<string, string> = {}): Promise<number> {
  return sum(await scrape(baseUrl), name, where);
}

/** n requests to the frontend, sequentially; returns their status codes. */
export async function hit(frontendUrl: string, route: '/hotels' | '/reservation' | '/login', n: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const r =
      route === '/hotels'
        ? await fetch(`${frontendUrl}/hotels?lat=${37.7 + (i % 10) * 0.02}&lon=-122.4`)
        : await fetch(`${frontendUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: `user_${i % 50}`, hotelId: 1 + (i % 60) }) });
    await r.arrayBuffer();
    codes.push(r.status);
  }
  return codes;
}

/**
 * The lab state file of these tests: one fixed file (not the default, which real runs use), so a
 * test process that died (timeout, crash) leaves its runs where the next test's cleanupLeftovers()
 * finds them; the per-file run directories are fresh.
 */
export const TEST_STATE_FILE = join(tmpdir(), 'panoptes-lab-tests', 'state.json');

export function runDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `lab-${name}-`));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
