/** Core commands: topic bootstrap and inspection on whichever transport the config selects. */
import type { CliCommand } from './cli-types.ts';
import { loadConfig } from './config.ts';
import { createRuntime } from './runtime.ts';
import { TOPICS, topicName, type TopicKey } from './topics.ts';

export const commands: CliCommand[] = [
  {
    name: 'topics create',
    summary: 'Create the pipeline topics (partitions, compaction) and register their Avro schemas.',
    options: [],
    help: `Idempotent: existing topics are left as they are. Schemas are registered under <topic>-value with BACKWARD compatibility.
Replication (config replicationFactor, minInsyncReplicas): by default 3 replicas with
min.insync.replicas=2 on a cluster of three brokers or more, 1 on a single broker. Create the
topics while every broker is up. Each line shows what the cluster reports for the topic.`,
    async run(_args, io) {
      const rt = await createRuntime(loadConfig(), { stage: 'topics' });
      try {
        const names = (Object.keys(TOPICS) as TopicKey[]).map((k) => topicName(k, rt.config.topicPrefix));
        const info = new Map((await rt.transport.describeTopics(names)).map((t) => [t.name, t]));
        const rows = (Object.keys(TOPICS) as TopicKey[]).map((k) => {
          const name = topicName(k, rt.config.topicPrefix);
          const t = info.get(name);
          return {
            topic: name,
            partitions: t?.partitions ?? 0,
            replicationFactor: t?.replicationFactor ?? 0,
            minInsyncReplicas: t?.minInsyncReplicas ?? null,
            cleanupPolicy: TOPICS[k].cleanupPolicy,
            schema: TOPICS[k].schema,
            schemaId: TOPICS[k].schema ? rt.serde.schemaId(name) : null,
          };
        });
        for (const r of rows) {
          io.out(io.json ? JSON.stringify(r) : `${r.topic.padEnd(28)} partitions=${r.partitions} replicas=${r.replicationFactor} min.insync.replicas=${r.minInsyncReplicas ?? '?'} cleanup=${r.cleanupPolicy} schema=${r.schema ?? '-'}${r.schemaId !== null ? ` id=${r.schemaId}` : ''}`);
        }
        return 0;
      } finally {
        await rt.close();
      }
    },
  },
  {
    name: 'topics list',
    summary: 'List topics with their partitions, replicas and record counts (high watermark sums).',
    options: [],
    async run(_args, io) {
      const rt = await createRuntime(loadConfig(), { stage: 'topics' });
      try {
        const names = (await rt.transport.listTopics()).filter((n) => !n.startsWith('__'));
        const info = new Map((await rt.transport.describeTopics(names)).map((t) => [t.name, t]));
        for (const name of names) {
          const offs = await rt.transport.offsets(name);
          const records = offs.reduce((s, o) => s + (Number(o.high) - Number(o.low)), 0);
          const rf = info.get(name)?.replicationFactor ?? 0;
          io.out(io.json ? JSON.stringify({ topic: name, partitions: offs.length, replicationFactor: rf, records }) : `${name.padEnd(28)} partitions=${offs.length} replicas=${rf} records=${records}`);
        }
        return 0;
      } finally {
        await rt.close();
      }
    },
  },
];
