/** The incidents stage's public surface, for other stages (the dashboard's demo so far). */
export { startIncidentCorrelator } from './consumer.ts';
