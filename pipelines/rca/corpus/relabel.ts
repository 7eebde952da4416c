/**
 * Re-chooses every issue's target of a generated corpus in place with the current `chooseTarget`
 * rule (the recorded rows do not change): `target.json` is rewritten, and an issue whose fault left
 * no visible symptom moves to `<scenario>/no-symptom/` where `rca eval` does not look.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { framesFromPetshopCsv } from '../frame.ts';
import type { LabTopology, TargetJson } from './plan.ts';
import { chooseTarget, type RelabelResult } from './target.ts';

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

export function relabelCorpus(dir: string, topo: LabTopology, progress: (line: string) => void = () => {}): RelabelResult {
  const res: RelabelResult = { issues: 0, changed: 0, noSymptom: 0 };
  for (const scen of readdirSync(dir).sort()) {
    const sdir = join(dir, scen);
    if (!isDir(sdir) || !existsSync(join(sdir, 'noissue', 'metrics.csv'))) continue;
    const normal = framesFromPetshopCsv(readFileSync(join(sdir, 'noissue', 'metrics.csv'), 'utf8'));
    for (const split of ['train', 'test']) {
      const spdir = join(sdir, split);
      if (!isDir(spdir)) continue;
      for (const issue of readdirSync(spdir).sort()) {
        const idir = join(spdir, issue);
        if (!existsSync(join(idir, 'target.json'))) continue;
        res.issues++;
        const tj = JSON.parse(readFileSync(join(idir, 'target.json'), 'utf8')) as TargetJson;
        const failure = framesFromPetshopCsv(readFileSync(join(idir, 'metrics.csv'), 'utf8'));
        const fromRow = failure.timestamps.findIndex((t) => t >= tj.target.timestamp * 1000 - 1);
        const t = fromRow >= 0 ? chooseTarget(normal, failure, fromRow, topo) : null;
        if (!t) {
          mkdirSync(join(sdir, 'no-symptom'), { recursive: true });
          renameSync(idir, join(sdir, 'no-symptom', `${split}-${issue}`));
          res.noSymptom++;
          progress(`${scen}/${split}/${issue} (${tj.metadata.fault.kind} on ${tj.metadata.fault.target}): no visible symptom, moved to no-symptom/`);
          continue;
        }
        if (t.node !== tj.target.node || t.metric !== tj.target.metric) res.changed++;
        tj.target.node = t.node;
        tj.target.metric = t.metric;
        tj.metadata.targetPeakScore = Math.round(t.peak * 100) / 100;
        writeFileSync(join(idir, 'target.json'), JSON.stringify(tj, null, 1) + '\n');
      }
    }
  }
  return res;
}
