/**
 * The three Argos agents without a model, registered as the llm client's offline handlers so the
 * training loop runs the same calls (prompts, schemas, accounting) with or without an endpoint.
 * The loop puts what each agent needs to know in the session before a call: the handlers read it
 * there rather than re-parsing the rendered prompt.
 */
import { LlmError } from '../../core/errors.ts';
import { argosAgents, type DetectionAnswer, type RepairAnswer, type ReviewAnswer, type OfflineHandler } from '../../llm/index.ts';
import { OfflineSynthesizer } from './synthesizer.ts';
import type { ChunkScore, DetectionContext } from './synthesizer.ts';
import { improves } from './synthesizer.ts';

export interface ReviewContext {
  before: ChunkScore;
  after: ChunkScore;
  /** The candidate's text as proposed. */
  expr: string;
}

export interface OfflineSession {
  detection?: DetectionContext;
  review?: ReviewContext;
  synthesizer: OfflineSynthesizer;
}

export function createOfflineSession(): OfflineSession {
  return { synthesizer: new OfflineSynthesizer() };
}

/**
 * Mechanical fixes for what the compiler says (the offline repair agent): close parentheses,
 * take the checker's did-you-mean, spell logic operators as words, drop code fences. Anything
 * else is returned unchanged, so the loop's bounded attempts end it.
 */
export function mechanicalRepair(expr: string, errors: string): { expr: string; fix: string } {
  let e = expr.replace(/```[a-z]*\n?/g, '').trim();
  const fixes: string[] = [];
  if (e !== expr.trim()) fixes.push('removed code fences');
  const words: Array<[RegExp, string, string]> = [
    [/&&/g, ' and ', "'&&' → and"],
    [/\|\|/g, ' or ', "'||' → or"],
    [/!(?!=)/g, ' not ', "'!' → not"],
  ];
  for (const [re, to, what] of words) {
    if (re.test(e)) {
      e = e.replace(re, to).replace(/\s+/g, ' ').trim();
      fixes.push(what);
    }
  }
  for (const m of errors.matchAll(/unknown function '([A-Za-z_][A-Za-z0-9_]*)' \(did you mean ([A-Za-z_][A-Za-z0-9_]*)\?\)/g)) {
    e = e.replace(new RegExp(`\\b${m[1]}\\s*\\(`, 'g'), `${m[2]}(`);
    fixes.push(`${m[1]} → ${m[2]}`);
  }
  let depth = 0;
  for (const ch of e) depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
  if (depth > 0 && /expected '\)'/.test(errors)) {
    // Close before a trailing `for N` if there is one, else at the end.
    const m = /\s+for\s+\S+(\s+samples)?\s*$/.exec(e);
    const at = m ? m.index : e.length;
    e = e.slice(0, at) + ')'.repeat(depth) + e.slice(at);
    fixes.push(`closed ${depth} parenthes${depth === 1 ? 'is' : 'es'}`);
  }
  return { expr: e, fix: fixes.length > 0 ? fixes.join('; ') : 'no mechanical fix applies' };
}

export function offlineHandlers(session: OfflineSession): Record<string, OfflineHandler> {
  return {
    [argosAgents.detection]: (): DetectionAnswer => {
      const ctx = session.detection;
      if (!ctx) throw new LlmError('offline detection agent called without a chunk in the session', { details: { kind: 'other' } });
      const answer = session.synthesizer.propose(ctx);
      if (!answer) {
        throw new LlmError(`offline synthesizer: no ${ctx.kind} template improves rows ${ctx.chunk.start}-${ctx.chunk.end - 1} (rank ${ctx.rank})`, {
          details: { kind: 'no_candidate' },
        });
      }
      return answer;
    },
    [argosAgents.repair]: (req): RepairAnswer => {
      const user = req.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      // The repair prompt's user message: "...was rejected:\n\n<expr>\n\nErrors:\n<errors>\n\nIt was meant to: ..."
      const m = /was rejected:\n\n([\s\S]*?)\n\nErrors:\n([\s\S]*?)\n\nIt was meant to: ([\s\S]*)$/.exec(user);
      const expr = m?.[1] ?? '';
      const r = mechanicalRepair(expr, m?.[2] ?? '');
      return { expr: r.expr || expr || 'value != value', description: (m?.[3] ?? '').slice(0, 300), fix: r.fix };
    },
    [argosAgents.review]: (): ReviewAnswer => {
      const ctx = session.review;
      if (!ctx) throw new LlmError('offline review agent called without metrics in the session', { details: { kind: 'other' } });
      // Argos's review may revise a threshold: re-choose it on the whole fit split.
      const refined = session.detection ? session.synthesizer.refine(session.detection, ctx.expr) : null;
      if (refined && !improves(ctx.after, refined.chunkAfter) && improves(refined.chunkAfter, ctx.before)) {
        return { decision: 'revise', expr: refined.answer.expr, reason: `threshold re-chosen on the whole fit split: ${refined.answer.rationale}` };
      }
      const d = `event F1 ${ctx.before.f1.toFixed(3)} -> ${ctx.after.f1.toFixed(3)}, detected events ${ctx.before.tp} -> ${ctx.after.tp}, false-alarm runs ${ctx.before.fpEvents} -> ${ctx.after.fpEvents}`;
      return improves(ctx.after, ctx.before) ? { decision: 'keep', reason: `${d}: better on the fit split` } : { decision: 'revert', reason: `${d}: no gain, revert` };
    },
  };
}
