// The entry of an `ingest --workers N` cluster worker (see cluster.ts): TypeScript through tsx's
// loader, as bin/panoptes.js does.
import { register } from 'tsx/esm/api';

register();
await import('./server-worker.ts');
