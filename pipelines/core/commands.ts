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
    help: 'Idempotent: existing topics are left as they are. Schemas are registered under <topic>-value with BACKWARD compatibility.',
    async run(_args, io) {
      const rt = await createRuntime(loadConfig(), { stage: 'topics' });
      try {
        const rows = await Promise.all(
          (Object.keys(TOPICS) as TopicKey[]).map(async (k) => {
            const name = topicName(k, rt.config.topicPrefix);
            const offs = await rt.transport.offsets(name);
            return { topic: name, partitions: offs.length, cleanupPolicy: TOPICS[k].cleanupPolicy, schema: TOPICS[k].schema, schemaId: TOPICS[k].schema ? rt.serde.schemaId(name) : null };
          }),
        );
        for (const r of rows) io.out(io.json ? JSON.stringify(r) : `${r.topic.padEnd(28)} partitions=${r.partitions} cleanup=${r.cleanupPolicy} schema=${r.schema ?? '-'}${r.schemaId !== null ? ` id=${r.schemaId}` : ''}`);
        return 0;
      } finally {
        await rt.close();
      }
    },
  },
  {
    name: 'topics list',
    summary: 'List topics with their partitions and record counts (high watermark sums).',
    options: [],
    async run(_args, io) {
      const rt = await createRuntime(loadConfig(), { stage: 'topics' });
      try {
        for (const name of await rt.transport.listTopics()) {
          if (name.startsWith('__')) continue;
          const offs = await rt.transport.offsets(name);
          const records = offs.reduce((s, o) => s + (Number(o.high) - Number(o.low)), 0);
          io.out(io.json ? JSON.stringify({ topic: name, partitions: offs.length, records }) : `${name.padEnd(28)} partitions=${offs.length} records=${records}`);
        }
        return 0;
      } finally {
        await rt.close();
      }
    },
  },
];
