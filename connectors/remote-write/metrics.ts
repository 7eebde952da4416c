/** The receiver's metrics, registered on the Registry it is given. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReceiverMetrics {
  requests: Counter<'code'>;
  rejects: Counter<'reason'>;
  requestDuration: Histogram<'code'>;
  inflight: Gauge;
  inflightBytes: Gauge;
  bytes: Counter<'kind'>;
  seriesReceived: Counter;
  samplesReceived: Counter;
  samplesAcknowledged: Counter;
  staleMarkers: Counter;
  exemplarsDropped: Counter;
  histogramsDropped: Counter;
  metadataIgnored: Counter;
  sinkDuration: Histogram<'outcome'>;
}

const P = 'panoptes_remote_write_';

export function receiverMetrics(registry: Registry): ReceiverMetrics {
  const registers = [registry];
  return {
    requests: new Counter({ name: `${P}requests_total`, help: 'Write requests answered, by HTTP status code.', labelNames: ['code'], registers }),
    rejects: new Counter({ name: `${P}rejected_requests_total`, help: 'Requests refused (4xx and 429), by reason.', labelNames: ['reason'], registers }),
    requestDuration: new Histogram({ name: `${P}request_duration_seconds`, help: 'Time from request start to reply, by status code.', labelNames: ['code'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    inflight: new Gauge({ name: `${P}inflight_requests`, help: 'Write requests admitted and not yet answered.', registers }),
    inflightBytes: new Gauge({ name: `${P}inflight_bytes`, help: 'Compressed bytes of the write requests in flight (declared length, or the limit when unknown).', registers }),
    bytes: new Counter({ name: `${P}received_bytes_total`, help: 'Body bytes read, compressed and after snappy decompression.', labelNames: ['kind'], registers }),
    seriesReceived: new Counter({ name: `${P}series_received_total`, help: 'Time series in well-formed requests.', registers }),
    samplesReceived: new Counter({ name: `${P}samples_received_total`, help: 'Samples in well-formed requests (acknowledged or not).', registers }),
    samplesAcknowledged: new Counter({ name: `${P}samples_acknowledged_total`, help: 'Samples the sink acknowledged and the client got a 204 for.', registers }),
    staleMarkers: new Counter({ name: `${P}stale_markers_total`, help: 'Samples that are Prometheus staleness markers (carried with stale=true).', registers }),
    exemplarsDropped: new Counter({ name: `${P}exemplars_dropped_total`, help: 'Exemplars received and not carried (counted in each record too).', registers }),
    histogramsDropped: new Counter({ name: `${P}histograms_dropped_total`, help: 'Native histogram samples received and not carried (counted in each record too).', registers }),
    metadataIgnored: new Counter({ name: `${P}metadata_ignored_total`, help: 'MetricMetadata entries received and not carried.', registers }),
    sinkDuration: new Histogram({ name: `${P}sink_write_duration_seconds`, help: 'Time the sink (Kafka produce with acks=all) took per request, by outcome (ok, error, deadline).', labelNames: ['outcome'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
  };
}
