/**
 * Runs one checked rule over a series with the real compiled program and returns where it fires.
 * The training loop scores rules with exactly what the detect stage deploys, so a threshold the
 * synthesizer derived from its own feature arithmetic is judged by the engine's semantics.
 *
 * It follows SeriesDetector's input rules (rows whose timestamp does not increase and non-finite
 * values are not fed; they never fire) and `for` persistence, without building explanations for
 * every firing (a rule true on most samples would otherwise cost an explanation per sample).
 * A fault (RuleRuntimeError, or anything the program throws) quarantines the rule for the rest of
 * the series, as online; the message is returned for the repair agent.
 */
import { compileProgram, TRUE, type CheckedRule } from '../../detect/index.ts';

export interface RuleRun {
  /** 1 where the rule fired, for rows [0, end). */
  fired: Uint8Array;
  /** The first fault's message, with the row it happened at. */
  fault?: { row: number; message: string };
}

export function runRule(rule: CheckedRule, timestamps: ArrayLike<number>, values: ArrayLike<number>, end: number = values.length): RuleRun {
  const program = compileProgram(rule);
  const fired = new Uint8Array(end);
  const p = rule.ast.persistence;
  let last = -Infinity;
  let streak = 0;
  let since = NaN;
  for (let i = 0; i < end; i++) {
    const t = timestamps[i]!;
    const v = values[i]!;
    if (!(t > last)) continue;
    last = t;
    if (!Number.isFinite(v)) continue;
    let truth: number;
    try {
      truth = program.step(t, v);
    } catch (err) {
      return { fired, fault: { row: i, message: err instanceof Error ? err.message : String(err) } };
    }
    if (truth !== TRUE) {
      streak = 0;
      continue;
    }
    if (streak === 0) since = t;
    streak++;
    if (p !== undefined && (p.kind === 'samples' ? streak < p.n : t - since < p.ms)) continue;
    fired[i] = 1;
  }
  return { fired };
}
