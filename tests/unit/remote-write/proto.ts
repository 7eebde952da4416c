/**
 * connectors/remote-write/wire/remote.proto loaded with protobufjs, for the sending side: the
 * tests and the in-process benchmark's load generator build WriteRequests with it (here, not in
 * the connector: only tests use it and snappyjs, a dev dependency). The receiver itself decodes
 * with wire/write-request.ts. Field names are protobufjs's camelCase (`metricFamilyName`, `countInt`).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import SnappyJS from 'snappyjs';

const root = protobuf.loadSync(fileURLToPath(new URL('../../../connectors/remote-write/wire/remote.proto', import.meta.url)));
export const WriteRequestType = root.lookupType('prometheus.WriteRequest');

export interface PbLabel { name: string; value: string }
export interface PbSample { value: number; timestamp: number }
export interface PbExemplar { labels: PbLabel[]; value: number; timestamp: number }
export interface PbHistogram { countInt?: number; sum?: number; schema?: number; timestamp: number }
export interface PbTimeSeries {
  labels: PbLabel[];
  samples?: PbSample[];
  exemplars?: PbExemplar[];
  histograms?: PbHistogram[];
}
export interface PbMetadata { type?: number; metricFamilyName: string; help?: string; unit?: string }
export interface PbWriteRequest { timeseries: PbTimeSeries[]; metadata?: PbMetadata[] }

/** The protobuf bytes of a WriteRequest, uncompressed. */
export function encodeWriteRequest(req: PbWriteRequest): Buffer {
  return Buffer.from(WriteRequestType.encode(WriteRequestType.fromObject(req)).finish());
}

/** Snappy block format, as remote-write sends it. */
export function snappyCompress(raw: Buffer): Buffer {
  return Buffer.from(SnappyJS.compress(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)));
}

/** The body Prometheus would POST for this request. */
export function encodeBody(req: PbWriteRequest): Buffer {
  return snappyCompress(encodeWriteRequest(req));
}

/** Labels sorted by name, as Prometheus sends them. */
export function sortedLabels(labels: Record<string, string>): PbLabel[] {
  return Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name]! }));
}
