/**
 * `panoptes run`'s front door: the registry of stages a pipeline file may name and the start and
 * stop of several of them on one runtime (one transport, one schema registry client, one metrics
 * registry). Each entry is the stage's spec (the one its own command reads) and a `launch` over the
 * stage's own programmatic start, reached through the stage's index.ts.
 *
 * Start order is against the flow (dashboard … detect, ingest last), so every consumer has joined
 * its group before the receiver takes the first write; stop is the reverse (ingest first: no new
 * writes, then each consumer finishes its batch and commits). Group ids and instance names come
 * from the file or the stages' defaults (the instance: `--instance`, else the host name), never
 * random, so copies of the same command on other machines share the work through the groups.
 */
import { AlertsServer, startAlertsStream } from '../../connectors/alerts/index.ts';
import { receiverOptionsOf, startIngest } from '../../connectors/remote-write/index.ts';
import { describeError, PanoptesError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { startDashboard } from '../dashboard/index.ts';
import { startDetectorFromSpec } from '../detect/index.ts';
import { startIncidentsFromSpec } from '../incidents/index.ts';
import { startServing } from '../inference/index.ts';
import { startRcaFromSpec } from '../rca/index.ts';
import { STAGE_NAMES, STAGE_SPECS, type Pipeline, type PipelineStage, type StageName, type StageOptionsMap, type StageSpecEntry } from './spec.ts';

export { STAGE_NAMES, STAGE_SPECS, checkStages, loadPipeline, type Pipeline, type PipelineStage, type StageName } from './spec.ts';

export interface StageContext {
  rt: Runtime;
  /** Default instance name of stages whose options name none (`panoptes run --instance`). */
  instance?: string;
  /** Warnings for the operator (stderr). */
  warn(line: string): void;
}

export interface StageHandle {
  name: StageName;
  /** What it listens on or consumes, for the start-up line. */
  description: string;
  /** Resolves with the error when the stage stops on its own. */
  failed: Promise<unknown>;
  health(): { ok: boolean; detail: Record<string, unknown> };
  close(): Promise<void>;
}

export interface StageEntry<N extends StageName = StageName> extends StageSpecEntry<N> {
  launch(options: StageOptionsMap[N], ctx: StageContext): Promise<StageHandle>;
}

const never = new Promise<never>(() => undefined);

/** Health of a stage that reports none of its own: ok until `failed` resolves. */
function tracked(name: StageName, failed: Promise<unknown>): () => { ok: boolean; detail: Record<string, unknown> } {
  let failure: unknown = null;
  void failed.then((err) => (failure = err ?? new Error('stopped')));
  return () => ({ ok: failure === null, detail: { stage: name, ...(failure !== null ? { error: describeError(failure) } : {}) } });
}

export const STAGES: { [N in StageName]: StageEntry<N> } = {
  ingest: {
    ...STAGE_SPECS.ingest,
    async launch(o, { rt }) {
      const ingest = await startIngest(rt, receiverOptionsOf(o));
      return { name: 'ingest', description: `remote-write on ${ingest.url}`, failed: never, health: () => ({ ok: true, detail: { stage: 'ingest' } }), close: () => ingest.close() };
    },
  },
  detect: {
    ...STAGE_SPECS.detect,
    async launch(o, { rt, instance }) {
      const d = await startDetectorFromSpec(rt, o, instance !== undefined ? { instanceId: instance } : {});
      return { name: 'detect', description: `detector (group ${o.group}, base ${o.base})`, failed: d.failed, health: () => d.health(), close: () => d.stop() };
    },
  },
  incidents: {
    ...STAGE_SPECS.incidents,
    async launch(o, { rt, instance }) {
      const c = await startIncidentsFromSpec(rt, o, instance !== undefined ? { instanceId: instance } : {});
      return { name: 'incidents', description: `incident correlator (group ${o.groupId})`, failed: c.failed, health: () => c.health(), close: () => c.stop() };
    },
  },
  rca: {
    ...STAGE_SPECS.rca,
    async launch(o, { rt, instance }) {
      const c = await startRcaFromSpec(rt, o, instance !== undefined ? { instanceId: instance } : {});
      return { name: 'rca', description: `rca consumer (group ${o.groupId}, method ${o.method})`, failed: c.failed, health: () => c.health(), close: () => c.stop() };
    },
  },
  alerts: {
    ...STAGE_SPECS.alerts,
    async launch(o, { rt }) {
      const server = new AlertsServer(o, { transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log.child({ stage: 'alerts' }) });
      let url: string;
      try {
        url = await server.start();
      } catch (err) {
        await server.close().catch(() => undefined);
        throw err;
      }
      return { name: 'alerts', description: `alerts on ${url}`, failed: never, health: () => ({ ok: true, detail: { stage: 'alerts' } }), close: () => server.close() };
    },
  },
  serve: {
    ...STAGE_SPECS.serve,
    async launch(o, { rt, warn }) {
      const s = await startServing(o, { registry: rt.metrics, runtime: rt, warn });
      return { name: 'serve', description: `models on ${s.url}${s.kafka ? ` and ${s.kafka.requests} (group ${o.group})` : ''}`, failed: s.failed, health: tracked('serve', s.failed), close: () => s.close() };
    },
  },
  dashboard: {
    ...STAGE_SPECS.dashboard,
    async launch(o, { rt }) {
      const alerts = o.alertsStream
        ? await startAlertsStream({ transport: rt.transport, serde: rt.serde, prefix: rt.config.topicPrefix, registry: rt.metrics, log: rt.log.child({ stage: 'dashboard', part: 'alerts-stream' }) }, { heartbeatMs: o.heartbeatMs, maxStreams: o.maxStreams })
        : null;
      let d: Awaited<ReturnType<typeof startDashboard>>;
      try {
        d = await startDashboard(rt, o, alerts?.register);
      } catch (err) {
        await alerts?.stop().catch(() => undefined);
        throw err;
      }
      const health = tracked('dashboard', d.failed);
      return {
        name: 'dashboard',
        description: `dashboard on ${d.url}`,
        failed: d.failed,
        health,
        async close() {
          try {
            await d.stop();
          } finally {
            await alerts?.stop();
          }
        },
      };
    },
  },
};

/** A stage that could not start: the others were stopped. */
export class StageStartError extends PanoptesError {
  readonly stage: StageName;
  constructor(stage: StageName, cause: unknown) {
    super(isPanoptesErrorCode(cause) ?? 'PANOPTES_INTERNAL', `stage ${stage} failed to start: ${describeError(cause)}`, { cause });
    this.stage = stage;
  }
}

function isPanoptesErrorCode(err: unknown): PanoptesError['code'] | null {
  return err instanceof PanoptesError ? err.code : null;
}

export interface RunningPipeline {
  stages: StageHandle[];
  /** Resolves with the first stage that stops on its own, and its error. */
  failed: Promise<{ stage: StageName; error: unknown }>;
  /** Every stage's health; ready when every stage that reports readiness is ready. */
  health(): { ok: boolean; detail: Record<string, unknown> };
  /** Stops the stages in the reverse order of their start (ingest first); every stage is closed even if one fails. */
  close(): Promise<void>;
}

/** Starts the pipeline's stages on `rt`, against the flow; one that fails stops those started (StageStartError). */
export async function startPipeline(pipeline: Pick<Pipeline, 'stages'>, ctx: StageContext): Promise<RunningPipeline> {
  const order = [...pipeline.stages].sort((a, b) => STAGE_NAMES.indexOf(b.name) - STAGE_NAMES.indexOf(a.name));
  const started: StageHandle[] = [];
  const close = async () => {
    const errors: unknown[] = [];
    for (const h of [...started].reverse()) {
      try {
        await h.close();
      } catch (err) {
        errors.push(err);
        ctx.rt.log.error('stage did not close cleanly', { stage: h.name, err: describeError(err) });
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  for (const s of order) {
    const entry = STAGES[s.name] as unknown as StageEntry;
    try {
      started.push(await entry.launch((s as PipelineStage).options, ctx));
    } catch (err) {
      await close().catch(() => undefined);
      throw new StageStartError(s.name, err);
    }
  }
  return {
    stages: started,
    failed: Promise.race(started.map((h) => h.failed.then((error) => ({ stage: h.name, error })))),
    health() {
      const per = started.map((h) => h.health());
      const ok = per.every((h) => h.ok);
      const ready = per.every((h) => h.detail.ready !== false);
      return { ok, detail: { ready, stages: Object.fromEntries(started.map((h, i) => [h.name, per[i]!.detail])) } };
    },
    close,
  };
}
