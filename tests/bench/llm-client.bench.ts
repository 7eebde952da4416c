/**
 * What the LLM client itself costs per call (openai package + retry policy + budget +
 * accounting + JSON parsing/validation) against the local replay server, so agent timings can
 * be read net of the client. Bounded: 300 sequential calls per case, 127.0.0.1 only.
 */
import { Registry } from 'prom-client';
import { startReplayServer } from '../../pipelines/llm/replay/server.ts';
import { replayClient } from '../../pipelines/llm/replay/client.ts';
import { detectionAnswerSchema } from '../../pipelines/llm/argos-answers.ts';
import type { ChatMessage } from '../../pipelines/llm/types.ts';

const N = 300;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

export async function run(): Promise<void> {
  const answer = { kind: 'FN', expr: 'value > mean(1d) + 4 * std(1d) for 3', description: 'spike', rationale: 'r' };
  const server = await startReplayServer({
    steps: [
      { match: { agent: 'text' }, reply: { content: 'value > 3' }, times: 0 },
      { match: { agent: 'json' }, reply: { json: answer }, times: 0 },
      { match: { agent: 'fenced' }, reply: { content: 'Here:\n```json\n' + JSON.stringify(answer) + '\n```' }, times: 0 },
    ],
  });
  const figures: Record<string, unknown> = { calls: N };
  try {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'x'.repeat(4000) },
      { role: 'user', content: 'y'.repeat(2000) },
    ];
    for (const kind of ['text', 'json', 'fenced'] as const) {
      const llm = replayClient(server, { registry: new Registry() });
      const lat: number[] = [];
      for (let i = 0; i < 10; i++) await (kind === 'text' ? llm.chat(kind, messages) : llm.chatJson(kind, messages, detectionAnswerSchema)); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < N; i++) {
        const t = performance.now();
        if (kind === 'text') await llm.chat(kind, messages);
        else await llm.chatJson(kind, messages, detectionAnswerSchema);
        lat.push(performance.now() - t);
      }
      const total = performance.now() - t0;
      const row = { callsPerSec: Math.round((N * 1000) / total), p50Ms: +pct(lat, 0.5).toFixed(2), p99Ms: +pct(lat, 0.99).toFixed(2) };
      console.log(`${kind.padEnd(6)} ${row.callsPerSec} calls/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (${N} sequential calls, 6 KB prompt, replay server in-process)`);
      figures[kind] = row;
    }
  } finally {
    await server.close();
  }
  console.log(`JSON: ${JSON.stringify({ bench: 'llm-client', ...figures })}`);
}
