/**
 * Decodes an uncompressed remote-write 1.0 `WriteRequest` (remote.proto) straight into
 * MetricBatch records, one per time series, validating as it goes. Pure: no I/O.
 *
 * The protobuf walk is hand-written instead of protobufjs's generated decoder for two reasons:
 * a sample's value must be judged from its raw 64 bits (Prometheus's staleness marker is a NaN
 * with the payload 0x7ff0000000000002, and a JS number does not promise to keep NaN payloads),
 * and the label bytes can be hashed for the fingerprint where they lie, without building an
 * intermediate object per label. Unknown fields are skipped, as protobuf requires.
 *
 * Any malformation throws an InputError from `reject` naming the reason; the whole request is
 * refused, nothing of it is kept.
 */
import { isUtf8 } from 'node:buffer';
import type { MetricBatch, Sample } from '../../pipelines/core/records.ts';
import { Fnv64 } from '../../pipelines/core/series-key.ts';
import { reject } from './reject.ts';

export interface DecodedRequest {
  batches: MetricBatch[];
  series: number;
  samples: number;
  staleMarkers: number;
  exemplarsDropped: number;
  histogramsDropped: number;
  /** MetricMetadata entries: not carried (the topic has no place for them), only counted. */
  metadata: number;
}

const WT_VARINT = 0;
const WT_FIXED64 = 1;
const WT_LEN = 2;
const WT_FIXED32 = 5;

const NAME_LABEL = '__name__';
// The staleness marker's bits, as two little-endian 32-bit words.
const STALE_LO = 0x00000002;
const STALE_HI = 0x7ff00000;
const TWO_32 = 4294967296;
// Avro readers built on avsc refuse a long beyond ±(2^53−2) ("potential precision loss"), so a
// timestamp there would be stored and then be unreadable downstream: refused here instead.
const MAX_TIMESTAMP = 2 ** 53 - 2;

/** A cursor over the body; every read checks bounds and throws bad_protobuf past them. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint's low 32 bits (tags, lengths, enums): longer encodings are read and truncated. */
  uint32(end: number): number {
    const buf = this.buf;
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw truncated();
      const b = buf[this.pos++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return value >>> 0;
    }
    throw reject('bad_protobuf', 'varint longer than 10 bytes');
  }

  /** A signed int64 varint as a number; throws when it is not a safe integer. */
  /** NaN when the value is not a safe integer (the caller names what it was). */
  int64(end: number): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw truncated();
      const b = buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) {
        const n = (hi | 0) * TWO_32 + (lo >>> 0);
        return Number.isSafeInteger(n) ? n : NaN;
      }
    }
    throw reject('bad_protobuf', 'varint longer than 10 bytes');
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes. */
  delimited(end: number): number {
    const len = this.uint32(end);
    const stop = this.pos + len;
    if (stop > end) throw truncated();
    return stop;
  }

  skip(wireType: number, end: number): void {
    switch (wireType) {
      case WT_VARINT:
        for (;;) {
          if (this.pos >= end) throw truncated();
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case WT_FIXED64:
        this.advance(8, end);
        return;
      case WT_LEN:
        this.pos = this.delimited(end);
        return;
      case WT_FIXED32:
        this.advance(4, end);
        return;
      default:
        throw reject('bad_protobuf', `unsupported wire type ${wireType}`);
    }
  }

  advance(n: number, end: number): void {
    if (this.pos + n > end) throw truncated();
    this.pos += n;
  }
}

function truncated(): Error {
  return reject('bad_protobuf', 'message truncated');
}

function wrongType(what: string, wireType: number): Error {
  return reject('bad_protobuf', `${what} has wire type ${wireType}`);
}

/** Prometheus's label-name grammar [a-zA-Z_][a-zA-Z0-9_]*, checked on the raw bytes. */
function validLabelName(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
    if (letter) continue;
    if (i > start && c >= 0x30 && c <= 0x39) continue;
    return false;
  }
  return true;
}

/** Prometheus's metric-name grammar [a-zA-Z_:][a-zA-Z0-9_:]*. */
function validMetricName(buf: Buffer, start: number, end: number): boolean {
  if (end === start) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
    if (letter) continue;
    if (i > start && c >= 0x30 && c <= 0x39) continue;
    return false;
  }
  return true;
}

/** Quoted and cut, so a hostile value cannot make a reply multi-line or huge. */
function show(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function utf8(buf: Buffer, start: number, end: number, index: number, labels: Record<string, string>, name: string): string {
  const s = buf.toString('utf8', start, end);
  // The decoder substitutes U+FFFD for bad bytes; only then is the exact check worth its cost.
  if (s.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
    throw reject('invalid_utf8', `${where(index, labels)}: value of label ${show(name)} is not valid UTF-8`);
  }
  return s;
}

/**
 * Label names and many values (job, instance, the metric name) repeat from series to series at
 * the same position: remembering the last bytes seen at each position lets a repeat skip
 * validation, decoding and allocation. Only validated strings are remembered.
 */
class RepeatCache {
  // Offsets into the request body (one cache lives for one request): no copies, no allocations.
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private readonly strings: string[] = [];

  get(buf: Buffer, start: number, end: number, position: number): string | undefined {
    const len = end - start;
    if (this.lengths[position] !== len) return undefined;
    const from = this.starts[position]!;
    if (from !== start) for (let i = 0; i < len; i++) if (buf[from + i] !== buf[start + i]) return undefined;
    return this.strings[position];
  }

  set(start: number, end: number, position: number, s: string): string {
    this.starts[position] = start;
    this.lengths[position] = end - start;
    this.strings[position] = s;
    return s;
  }
}

// Sample values are read through a scratch buffer: one 8-byte copy gives both the double and its
// two 32-bit words (little-endian platforms; others take Buffer's readers).
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const scratch = new ArrayBuffer(8);
const scratchU8 = new Uint8Array(scratch);
const scratchF64 = new Float64Array(scratch);
const scratchU32 = new Uint32Array(scratch);

function where(index: number, labels: Record<string, string>): string {
  const name = labels[NAME_LABEL];
  return name === undefined ? `series ${index}` : `series ${index} (${name})`;
}

export function decodeWriteRequest(body: Buffer, receivedAtMs: number, source = 'remote-write'): DecodedRequest {
  const r = new Reader(body);
  const out: DecodedRequest = {
    batches: [],
    series: 0,
    samples: 0,
    staleMarkers: 0,
    exemplarsDropped: 0,
    histogramsDropped: 0,
    metadata: 0,
  };
  const end = body.length;
  const names = new RepeatCache();
  const values = new RepeatCache();
  // Metric names have a stricter grammar than values: a cache of their own.
  const metricNames = new RepeatCache();
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      if (wt !== WT_LEN) throw wrongType('WriteRequest.timeseries', wt);
      const stop = r.delimited(end);
      decodeSeries(r, stop, out, receivedAtMs, source, names, values, metricNames);
      r.pos = stop;
    } else if (field === 3) {
      if (wt !== WT_LEN) throw wrongType('WriteRequest.metadata', wt);
      r.pos = r.delimited(end);
      out.metadata++;
    } else if (field === 0) {
      throw reject('bad_protobuf', 'field number 0');
    } else {
      r.skip(wt, end);
    }
  }
  return out;
}

function decodeSeries(r: Reader, end: number, out: DecodedRequest, receivedAtMs: number, source: string, names: RepeatCache, values: RepeatCache, metricNames: RepeatCache): void {
  const buf = r.buf;
  const index = out.series;
  const hash = new Fnv64();
  // A plain object (fast properties); a label called `__proto__` is defined as an own key below.
  const labels: Record<string, string> = {};
  const samples: Sample[] = [];
  let prevName: string | null = null;
  let labelIndex = 0;
  let hasName = false;
  let exemplars = 0;
  let histograms = 0;

  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 2) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.samples', wt);
      const stop = r.delimited(end);
      let lo = 0;
      let hi = 0;
      let value = 0;
      let ts = 0;
      while (r.pos < stop) {
        const t = r.uint32(stop);
        const f = t >>> 3;
        const w = t & 7;
        if (f === 1) {
          if (w !== WT_FIXED64) throw wrongType('Sample.value', w);
          r.advance(8, stop);
          const p = r.pos - 8;
          if (LE) {
            for (let k = 0; k < 8; k++) scratchU8[k] = buf[p + k]!;
            lo = scratchU32[0]!;
            hi = scratchU32[1]!;
            value = scratchF64[0]!;
          } else {
            lo = buf.readUInt32LE(p);
            hi = buf.readUInt32LE(p + 4);
            value = buf.readDoubleLE(p);
          }
        } else if (f === 2) {
          if (w !== WT_VARINT) throw wrongType('Sample.timestamp', w);
          ts = r.int64(stop);
          if (!(ts <= MAX_TIMESTAMP && ts >= -MAX_TIMESTAMP)) throw reject('timestamp_out_of_range', `${where(index, labels)}: a sample timestamp is outside ±(2^53−2) ms`);
        } else if (f === 0) {
          throw reject('bad_protobuf', 'field number 0');
        } else r.skip(w, stop);
      }
      const stale = lo === STALE_LO && hi === STALE_HI;
      if (stale) out.staleMarkers++;
      samples.push({ timestampMs: ts, value, stale });
    } else if (field === 1) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.labels', wt);
      const stop = r.delimited(end);
      let ns = 0;
      let ne = 0;
      let vs = 0;
      let ve = 0;
      while (r.pos < stop) {
        const t = r.uint32(stop);
        const f = t >>> 3;
        const w = t & 7;
        if (f === 1 || f === 2) {
          if (w !== WT_LEN) throw wrongType(f === 1 ? 'Label.name' : 'Label.value', w);
          const e = r.delimited(stop);
          if (f === 1) {
            ns = r.pos;
            ne = e;
          } else {
            vs = r.pos;
            ve = e;
          }
          r.pos = e;
        } else if (f === 0) {
          throw reject('bad_protobuf', 'field number 0');
        } else r.skip(w, stop);
      }
      const position = labelIndex++;
      let name = names.get(buf, ns, ne, position);
      if (name === undefined) {
        if (ne === ns) throw reject('empty_label_name', `${where(index, labels)}: a label has an empty name`);
        if (!validLabelName(buf, ns, ne)) {
          const bad = buf.toString('utf8', ns, ne);
          throw reject('invalid_label_name', `${where(index, labels)}: label name ${show(bad)} does not match [a-zA-Z_][a-zA-Z0-9_]*`);
        }
        // Names are ASCII from here on, so latin1 decoding is exact and JS order is byte order.
        name = names.set(ns, ne, position, buf.toString('latin1', ns, ne));
      }
      if (prevName !== null) {
        if (name === prevName) throw reject('duplicate_label', `${where(index, labels)}: label ${show(name)} appears twice`);
        if (name < prevName) throw reject('unsorted_labels', `${where(index, labels)}: label ${show(name)} comes after ${show(prevName)}; names must be sorted`);
      }
      prevName = name;
      if (name === NAME_LABEL) {
        let value = metricNames.get(buf, vs, ve, 0);
        if (value === undefined) {
          if (!validMetricName(buf, vs, ve)) {
            throw reject('invalid_metric_name', `series ${index}: metric name ${show(buf.toString('utf8', vs, ve))} does not match [a-zA-Z_:][a-zA-Z0-9_:]*`);
          }
          value = metricNames.set(vs, ve, 0, buf.toString('latin1', vs, ve));
        }
        labels[name] = value;
        hasName = true;
      } else {
        if (ve === vs) continue;
        let value = values.get(buf, vs, ve, position);
        if (value === undefined) value = values.set(vs, ve, position, utf8(buf, vs, ve, index, labels, name));
        if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
        else labels[name] = value;
      }
      hash.label(buf, ns, ne, vs, ve);
    } else if (field === 3) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.exemplars', wt);
      r.pos = r.delimited(end);
      exemplars++;
    } else if (field === 4) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.histograms', wt);
      r.pos = r.delimited(end);
      histograms++;
    } else if (field === 0) {
      throw reject('bad_protobuf', 'field number 0');
    } else {
      r.skip(wt, end);
    }
  }
  if (!hasName) throw reject('missing_metric_name', `series ${index} has no __name__ label`);
  out.series++;
  out.samples += samples.length;
  out.exemplarsDropped += exemplars;
  out.histogramsDropped += histograms;
  // A series with nothing to carry and nothing dropped produces no record.
  if (samples.length === 0 && exemplars === 0 && histograms === 0) return;
  out.batches.push({
    fingerprint: hash.hex(),
    labels,
    samples,
    source,
    receivedAtMs,
    exemplarsDropped: exemplars,
    histogramsDropped: histograms,
  });
}
