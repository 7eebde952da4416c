/**
 * Loads @confluentinc/kafka-javascript (librdkafka) on first use only, so the embedded mode,
 * `--help` and every kafkajs run work on machines where it was never installed or built (it is an
 * optional dependency; infra/rdkafka.sh installs and builds it).
 */
import { TransportError } from '../errors.ts';
import type { RdKafkaModule } from './rdkafka-native.ts';

// A variable specifier: TypeScript does not resolve it, so type-checking never needs the package.
const PACKAGE = '@confluentinc/kafka-javascript';

let loaded: Promise<RdKafkaModule> | null = null;

export function loadRdKafka(): Promise<RdKafkaModule> {
  loaded ??= (import(PACKAGE) as Promise<{ default?: RdKafkaModule }>)
    .then((m) => (m.default ?? m) as RdKafkaModule)
    .catch((err: unknown) => {
      loaded = null;
      throw new TransportError(
        `kafkaClient=librdkafka needs the native module of ${PACKAGE}, which did not load (${(err as Error).message}). Install and build it with: bash infra/rdkafka.sh`,
        { cause: err },
      );
    });
  return loaded;
}
