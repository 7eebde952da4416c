/**
 * An LLM agent in ReAct style (thought → action → observation) over pipelines/llm: each turn the
 * model sees the task, the interface and the transcript so far, and answers one JSON object
 * {thought, action, args}; the action runs against the interface and its result (clipped) is the
 * next observation. The loop ends at `submit`, after `maxTurns`, at the deadline, or when a call
 * fails for good. Tokens are counted into the interface's record.
 */
import type { ChatMessage, JsonSchema, LlmClient } from '../../llm/index.ts';
import type { AgentCloud } from '../interface/cloud.ts';
import type { Answer } from '../problems/problem.ts';
import type { LabAgent } from './agent.ts';

export const REACT_AGENT = 'lab-react';
export const REACT_ACTIONS = ['get_metrics', 'get_logs', 'get_anomalies', 'get_incidents', 'get_rca', 'exec', 'submit'] as const;
type Action = (typeof REACT_ACTIONS)[number];

export const REACT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    thought: { type: 'string' },
    action: { type: 'string', enum: [...REACT_ACTIONS] },
    args: { type: 'object' },
  },
  required: ['thought', 'action', 'args'],
};

interface Turn {
  thought: string;
  action: Action;
  args: Record<string, unknown>;
}

const SYSTEM = `You are an SRE agent solving one AIOpsLab problem. Work in a loop: think, pick ONE action, read its observation.
Answer every turn with a JSON object {"thought": "...", "action": "<one of ${REACT_ACTIONS.join(', ')}>", "args": {...}}.
Actions and args:
  get_metrics {"promql": "lab:errors", "rangeS": 0}   Prometheus query (instant; rangeS > 0 for the last rangeS seconds at 1 s)
  get_logs {"service": "search"}                      error and info lines of a service since the problem started
  get_anomalies {}                                     anomalies the Panoptes detector published since the problem started
  get_incidents {}                                     incidents (correlated anomalies)
  get_rca {}                                           ranked root causes per incident
  exec {"command": "restart geo"}                      only: restart <service> | rollback-config <service> | scale <service> <workers>
  submit {"answer": {...}}                             your final answer for the task (ends the problem)`;

function clip(v: unknown, n = 1500): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > n ? `${s.slice(0, n)}… (${s.length - n} more characters)` : s;
}

export class ReactAgent implements LabAgent {
  readonly name = 'llm-react';

  constructor(
    private readonly client: LlmClient,
    private readonly o: { maxTurns?: number; maxTokens?: number } = {},
  ) {}

  async solve(cloud: AgentCloud, deadlineMs: number, signal: AbortSignal): Promise<void> {
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: `${cloud.describeTask()}\nThe problem started ${(cloud.elapsedMs() / 1000).toFixed(0)} s ago. Begin.` },
    ];
    const maxTurns = this.o.maxTurns ?? 12;
    for (let turn = 0; turn < maxTurns && !cloud.submission && !signal.aborted && Date.now() < deadlineMs; turn++) {
      const res = await this.client.chatJson<Turn>(REACT_AGENT, messages, REACT_SCHEMA, {
        maxTokens: this.o.maxTokens ?? 400,
        temperature: 0,
        timeoutMs: Math.max(1000, Math.min(30_000, deadlineMs - Date.now())),
        signal,
        prompt: { name: 'lab-react', version: 1 },
      });
      cloud.addTokens(res.usage.promptTokens, res.usage.completionTokens);
      const t = res.value;
      messages.push({ role: 'assistant', content: JSON.stringify(t) });
      const observation = await this.act(cloud, t);
      messages.push({ role: 'user', content: `Observation (${t.action}): ${observation}` });
    }
  }

  private async act(cloud: AgentCloud, t: Turn): Promise<string> {
    const a = t.args ?? {};
    try {
      switch (t.action) {
        case 'get_metrics':
          return clip(await cloud.getMetrics(String(a.promql ?? ''), Number(a.rangeS ?? 0) || 0));
        case 'get_logs':
          return clip(cloud.getLogs(String(a.service ?? ''), 30).map((l) => ({ level: l.level, msg: l.msg, error: l.error, route: l.route })));
        case 'get_anomalies':
          return clip(cloud.getAnomalies().map((x) => ({ component: x.labels.component, signal: x.labels.signal, at: x.timestampMs, value: x.value, rule: x.ruleId, why: x.explanation })));
        case 'get_incidents':
          return clip(cloud.getIncidents().map((i) => ({ id: i.id, status: i.status, components: i.components, summary: i.summary })));
        case 'get_rca':
          return clip(cloud.getRca().map((r) => ({ incident: r.incidentId, causes: r.causes.map((c) => ({ node: c.node, score: c.score, path: c.path })), note: r.note })));
        case 'exec':
          return await cloud.exec(String(a.command ?? ''));
        case 'submit':
          cloud.submit(((a.answer ?? a) as Answer) ?? {});
          return 'submitted';
        default:
          return `unknown action "${String(t.action)}"; use one of ${REACT_ACTIONS.join(', ')}`;
      }
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }
}
