/**
 * Loads @confluentinc/kafka-javascript (librdkafka) on first use only, so the embedded mode,
 * `--help` and every kafkajs run work on machines where its native module was never built.
 */
import type * as RdKafka from '@confluentinc/kafka-javascript';
import { TransportError } from '../errors.ts';

export type RdKafkaModule = typeof RdKafka;

let loaded: Promise<RdKafkaModule> | null = null;

export function loadRdKafka(): Promise<RdKafkaModule> {
  loaded ??= import('@confluentinc/kafka-javascript')
    .then((m) => ((m as unknown as { default?: RdKafkaModule }).default ?? m) as RdKafkaModule)
    .catch((err: unknown) => {
      loaded = null;
      throw new TransportError(
        `kafkaClient=librdkafka needs the native module of @confluentinc/kafka-javascript, which did not load (${(err as Error).message}). Build it with: bash infra/rdkafka.sh`,
        { cause: err },
      );
    });
  return loaded;
}
