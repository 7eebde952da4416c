/** The incidents stage's front door: what other folders may import. */
export { startIncidentCorrelator } from './consumer.ts';
