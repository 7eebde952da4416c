/**
 * The inference stage's options, declared once: `panoptes serve`'s flags, the README's option
 * table (`npm run docs`), config validation (`serveSpec.check`), and the pool's defaults
 * (options.ts takes them from here).
 */
import { defineSpec, f, HOSTPORT, type Options } from '../core/spec.ts';

export const POLICIES = ['clockwork', 'fifo'] as const;
export const KAFKA_MODES = ['auto', 'off'] as const;

export const serveSpec = defineSpec(
  'serve',
  {
    models: f.string({ doc: 'Folder holding models.json (from `panoptes models build`).', required: true, nonEmpty: true, placeholder: 'DIR' }),
    listen: f.string({ doc: 'Address the HTTP server binds. A warning is printed when it is beyond loopback without --bearer-token-file.', default: '127.0.0.1:8000', pattern: HOSTPORT, placeholder: 'HOST:PORT' }),
    workers: f.int({ doc: 'Inference worker threads, one core each (keep ≤ cores − 1 for the controller).', default: 1, min: 1, max: 256, placeholder: 'N' }),
    memoryBudgetMb: f.number({ doc: 'Per-worker memory budget for loaded models, MiB (a model counts its ONNX file size); least recently used models are evicted.', default: 256, min: 0, exclusive: true, placeholder: 'MB' }),
    maxBatch: f.int({ doc: 'Largest batch in rows; profiled batch sizes are the powers of two up to it.', default: 16, min: 1, max: 4096, placeholder: 'N' }),
    sloMs: f.number({ doc: "SLO for requests without a deadline of their own, ms (default: each model's `sloMs` in models.json).", min: 0, exclusive: true, placeholder: 'MS' }),
    policy: f.enum(POLICIES, { doc: 'clockwork: admission control and least-slack batching; fifo: the baseline that admits everything.', default: 'clockwork' }),
    deadlineBufferMs: f.number({ doc: 'Subtracted from every deadline for result delivery (writing the response, producing the record), ms.', default: 1, min: 0, placeholder: 'MS' }),
    admissionHeadroomMs: f.number({ doc: 'Admission at arrival wants the predicted finish this long before the deadline; later checks use the deadline itself, so admitted requests keep this slack for stalls and for time outside the server (the client, the network), ms.', default: 0, min: 0, placeholder: 'MS' }),
    maxBodyMb: f.number({ doc: 'Largest HTTP request body, MiB (413 above it, refused before it is read when Content-Length says so).', default: 8, min: 0, exclusive: true, placeholder: 'MB' }),
    parseWorkers: f.int({ doc: "Worker threads that parse large JSON bodies off the scheduler's thread (0: parse on it).", default: 1, min: 0, max: 64, placeholder: 'N' }),
    parseOffloadKb: f.number({ doc: 'JSON bodies of at least this size go to a parse worker; smaller ones and binary tensors parse inline, KiB.', default: 16, min: 0, placeholder: 'KB' }),
    bearerTokenFile: f.string({ doc: 'Require `Authorization: Bearer <token>` on every route but /metrics, /healthz and /v2/health/*; the file holds the token (as `panoptes ingest --bearer-token-file`).', nonEmpty: true, placeholder: 'FILE' }),
    kafka: f.enum(KAFKA_MODES, { doc: 'auto: also consume inference.requests and produce inference.results when a broker is configured (transport=kafka, PANOPTES_BROKERS); off: HTTP only.', default: 'auto' }),
    group: f.string({ doc: 'Consumer group of the Kafka interface (prefixed like topics).', default: 'panoptes-inference', nonEmpty: true, placeholder: 'NAME' }),
    maxInFlight: f.int({ doc: 'Request records taken from Kafka and not yet answered; fetching pauses above it.', default: 2000, min: 1, placeholder: 'N' }),
    maxLoadsInFlight: f.int({ doc: 'Model loads at once across the workers.', default: 1, min: 1, advanced: true, placeholder: 'N' }),
    maxLoadShare: f.number({ doc: "The most of a worker's last second spent loading models before it takes no new load.", default: 0.25, min: 0, max: 1, exclusive: true, advanced: true }),
    profileWindow: f.int({ doc: 'Measurements per (model, batch size) kept for the latency estimate.', default: 10, min: 1, advanced: true, placeholder: 'N' }),
    profileQuantile: f.number({ doc: 'Quantile of that window used as the estimate.', default: 0.99, min: 0, max: 1, advanced: true }),
    profileRuns: f.int({ doc: 'Runs per batch size when a model is profiled at its first load.', default: 3, min: 1, advanced: true, placeholder: 'N' }),
    predictionLogSize: f.int({ doc: 'Entries kept in the predicted-vs-actual log.', default: 2000, min: 1, advanced: true, placeholder: 'N' }),
  },
  { summary: 'Serve a folder of ONNX models over KServe v2 HTTP (and Kafka) with Clockwork scheduling.' },
);

export type ServeOptions = Options<typeof serveSpec.fields>;
