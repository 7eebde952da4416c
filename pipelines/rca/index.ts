/** The rca stage's public surface, for other stages (the dashboard so far). */
export { toSvg } from './render.ts';
export { withVersion } from './graph.ts';
export { startRcaConsumer } from './consumer.ts';
