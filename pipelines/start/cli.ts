/**
 * `panoptes start` (`npm start`): the main job — one lab problem end to end on the embedded
 * transport (no broker, no registry server). It starts the lab's hotel-reservation services, a
 * real Prometheus remote-writing into the Panoptes receiver, the pipeline (detector with the base
 * detector and the lab rules → incidents → RCA over the causal graph synthesized from the lab's
 * service catalog), warms up under workload, injects a fault, lets the Panoptes agent answer, and
 * prints what was injected, what was detected, the incident, the ranked root causes and the
 * AIOpsLab score. `panoptes start --nab` is the earlier job (NAB series replayed through the
 * detector).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliCommand, ReadmeSections } from '../core/cli-types.ts';
import { ConfigError, UsageError } from '../core/errors.ts';
import { START_BASES, startSpec, startUsageProblems } from './spec.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Prometheus is a Debian package: install it when we may (root), else say how. */
function ensurePrometheus(err: (l: string) => void): void {
  const bin = process.env.PANOPTES_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
  if (existsSync(bin)) return;
  if (process.getuid?.() === 0) {
    err(`${bin} is missing: installing Debian's prometheus (bash infra/debian.sh)`);
    const r = spawnSync('bash', [join(ROOT, 'infra', 'debian.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status === 0 && existsSync(bin)) return;
  }
  throw new ConfigError([{ path: 'prometheus', message: `${bin} is missing and could not be installed here: the lab runs Debian's Prometheus. Run \`sudo bash infra/debian.sh\` (or apt-get install prometheus), then npm start again. \`panoptes start --nab\` runs the NAB replay, which needs no Prometheus` }]);
}

export const commands: CliCommand[] = [
  {
    name: 'start',
    summary: startSpec.summary,
    usage: `[--problem ID] [--transport embedded|kafka] [--nab [--series PATH ...] [--rules FILE] [--base ${START_BASES.join('|')}] [--show N]] [--json]`,
    options: startSpec.cliOptions(),
    help: 'Needs /usr/bin/prometheus (installed by infra/debian.sh; npm start runs it when root) and PostgreSQL and Redis on 127.0.0.1. About 1.5 minutes.\nWith --nab: reads NAB from $PANOPTES_DATASETS/nab (default ../shared/datasets/nab beside the repository).',
    async run(args, io) {
      const o = startSpec.fromArgs(args);
      const problems = startUsageProblems(o);
      if (problems.length > 0) throw new UsageError(problems.join('\n'));
      if (o.nab) {
        const { runNab } = await import('./cli-nab.ts');
        return runNab(o, io);
      }
      ensurePrometheus(io.err);
      const { problemById, runLabCommand, DEFAULT_BASE_PORT } = await import('../lab/index.ts');
      const problem = problemById(o.problem);
      io.err(`panoptes start: lab problem ${problem.id} — ${problem.description}`);
      const { report, files } = await runLabCommand(
        { problems: [problem], agent: 'panoptes', transport: o.transport ?? 'embedded', outDir: resolve(o.out), basePort: DEFAULT_BASE_PORT, command: `panoptes start --problem ${problem.id}` },
        io,
      );
      const p = report.problems[0]!;
      if (io.json) {
        io.out(JSON.stringify(p));
        return p.status === 'scored' ? 0 : 1;
      }
      const { renderStart } = await import('./render.ts');
      for (const l of renderStart(p)) io.out(l);
      io.out(`\nReport: ${files.markdown}. Next: \`panoptes lab list\`, \`panoptes lab run --all\`, \`panoptes start --nab\`.`);
      return p.status === 'scored' ? 0 : 1;
    },
  },
];

export const readmeSections: ReadmeSections = { 'start-options': () => startSpec.markdown() };
