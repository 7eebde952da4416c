/**
 * Series written as text, after Prometheus's `load 1m` test format: `step` between samples, values
 * separated by spaces, `NaN` for a missing value, `_` for a gap (no sample at that step).
 */
import { parseDuration } from '../../../pipelines/detect/rules/lexer.ts';

export interface Sample {
  t: number;
  v: number;
}

export function load(step: string, values: string, start = 1_700_000_000_000): Sample[] {
  const ms = parseDuration(step);
  if (ms === undefined) throw new Error(`bad step ${step}`);
  const out: Sample[] = [];
  values
    .trim()
    .split(/\s+/)
    .forEach((tok, i) => {
      if (tok === '_') return;
      out.push({ t: start + i * ms, v: tok === 'NaN' ? NaN : Number(tok) });
    });
  return out;
}
