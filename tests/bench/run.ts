/**
 * `npm run bench`: runs every tests/bench/*.bench.ts (or those named on the command line, e.g.
 * `npm run bench -- transport rules`; see `pick`). Benchmarks print figures; none passes or fails on speed.
 * Kafka-backed benchmarks need the real servers: this starts them through infra/up.sh first.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
// A name picks its own benchmark and those that extend it with a dot (`inference` runs
// inference.bench.ts, not inference-door; `remote-write` also runs remote-write.inprocess), and
// falls back to every file it prefixes (`detect` runs detect-e2e and detect-rebuild).
const pick = (w: string): string[] => {
  const own = all.filter((f) => f.startsWith(`${w}.`));
  return own.length > 0 ? own : all.filter((f) => f.startsWith(w));
};
const files = (wanted.length === 0 ? all : [...new Set(wanted.flatMap(pick))]).sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}`);
  process.exit(2);
}
if (process.env.PANOPTES_BENCH_NO_INFRA !== '1') execFileSync('bash', [join(dir, '..', '..', 'infra', 'up.sh')], { stdio: 'inherit' });
console.log(`# machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}`);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}`);
  try {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run: () => Promise<void> };
    await mod.run();
  } catch (err) {
    failed++;
    console.error(`benchmark ${f} failed: ${(err as Error).stack ?? String(err)}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
