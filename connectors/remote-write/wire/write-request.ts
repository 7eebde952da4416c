/**
 * A remote-write 1.0 `WriteRequest` (uncompressed protobuf, remote.proto) straight into Kafka
 * records: one Avro `MetricBatch` (schemas/metric-batch.avsc, Confluent framing) per time series,
 * keyed by the series fingerprint, validated and limited as it goes. Pure: no I/O.
 *
 * No intermediate objects: label bytes are validated, hashed for the fingerprint and copied where
 * they lie; a sample's 8 value bytes are copied as they are (protobuf's fixed64 double and Avro's
 * double are both little-endian IEEE 754), so Prometheus's staleness marker (the NaN with payload
 * 0x7ff0000000000002, which a JS number does not promise to keep) is judged from its raw bits and
 * carried bit for bit. Every record of a request is written back to back into one buffer; the
 * caller gets offsets, not objects. An earlier version built a `MetricBatch` object per series (a
 * labels object and an object per sample) and encoded those: the objects and their garbage
 * collection were a third of the receiver's JavaScript time (connectors/remote-write/README.md,
 * Throughput).
 *
 * The bytes equal what the serde writes for the same MetricBatch (same field order, zig-zag
 * varints, one block per map and array followed by the 0 terminator, as avsc writes them; labels
 * in the sender's order, which validation makes the sorted order). Unknown protobuf fields are
 * skipped, as protobuf requires.
 *
 * Limits (Prometheus-, Mimir-style; all configurable, see spec.ts) are checked while walking, so the
 * work done before a refusal is bounded by the limit, not by the body: series and samples per
 * request, labels per series, label name and value length, the timestamp window, the size of one
 * record. Any malformation or excess throws an InputError from `reject` naming the reason; the
 * whole request is refused and nothing of it is kept.
 */
import { isUtf8 } from 'node:buffer';
import { Fnv64 } from '../../../pipelines/core/series-key.ts';
import { reject } from './reject.ts';

export interface Limits {
  /** Time series in one request. */
  maxSeries: number;
  /** Samples in one request (all series). */
  maxSamples: number;
  /** Labels of one series, `__name__` included. */
  maxLabels: number;
  /** Bytes of one label name. */
  maxLabelNameBytes: number;
  /** Bytes of one label value (the metric name included). */
  maxLabelValueBytes: number;
  /** Earliest sample timestamp accepted, ms since the epoch (inclusive); never below 0. */
  minTimestampMs: number;
  /** Latest sample timestamp accepted, ms since the epoch (inclusive). */
  maxTimestampMs: number;
  /** Bytes of one record value; a record beyond this could not be stored on the topic. */
  maxRecordBytes: number;
  /** Samples of one record: a longer series becomes several records with the same key, in order. */
  maxSamplesPerRecord: number;
}

/** No limit beyond what the format itself imposes (tests, tools). */
export const NO_LIMITS: Limits = {
  maxSeries: Number.MAX_SAFE_INTEGER,
  maxSamples: Number.MAX_SAFE_INTEGER,
  maxLabels: 1 << 20,
  maxLabelNameBytes: Number.MAX_SAFE_INTEGER,
  maxLabelValueBytes: Number.MAX_SAFE_INTEGER,
  minTimestampMs: 0,
  // Avro readers built on avsc refuse a long beyond ±(2^53−2) ("potential precision loss").
  maxTimestampMs: 2 ** 53 - 2,
  maxRecordBytes: Number.MAX_SAFE_INTEGER,
  maxSamplesPerRecord: 10_000,
};

/** What every record of one request shares. */
export interface RecordContext {
  /** Registry id of the topic's MetricBatch schema (the Confluent framing). */
  schemaId: number;
  /** The MetricBatch `source` field. */
  source: string;
  receivedAtMs: number;
}

export interface EncodedRequest {
  /** Every record's key and value, back to back. */
  buf: Buffer;
  /** Per record, three offsets into `buf`: key start, value start (= key end), value end. */
  bounds: Int32Array;
  records: number;
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
const TWO_32 = 4294967296;
const KEY_BYTES = 16;
const MAGIC = 0;

/** A cursor over the body; every read checks bounds and throws bad_protobuf past them. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint's low 32 bits (tags, lengths): longer encodings are read and truncated. */
  uint32(end: number): number {
    const buf = this.buf;
    let p = this.pos;
    if (p < end) {
      const b = buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw truncated();
      const b = buf[p++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) {
        this.pos = p;
        return value >>> 0;
      }
    }
    throw reject('bad_protobuf', 'varint longer than 10 bytes');
  }

  /** A signed int64 varint as a number; NaN when it is not a safe integer. */
  int64(end: number): number {
    const buf = this.buf;
    let p = this.pos;
    // Up to 7 bytes (49 bits) fit a double exactly: the common case (ms timestamps take 6).
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (p >= end) throw truncated();
      const b = buf[p++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        return n;
      }
      mul *= 128;
    }
    // Longer: the two's-complement 64 bits in two halves.
    p = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw truncated();
      const b = buf[p++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) {
        this.pos = p;
        const v = (hi | 0) * TWO_32 + (lo >>> 0);
        return Number.isSafeInteger(v) ? v : NaN;
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

/** The output: records appended back to back; grows by copying (offsets stay valid). */
class Out {
  buf: Buffer;
  pos = 0;
  bounds: Int32Array;
  records = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(sizeHint);
    this.bounds = new Int32Array(3 * 256);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 65536));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A non-negative integer below 2^31 as a zig-zag varint (Avro int/long). */
  smallInt(n: number): void {
    let v = n * 2;
    const buf = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** Any safe integer as a zig-zag varint (Avro long). */
  long(n: number): void {
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    const buf = this.buf;
    let p = this.pos;
    while (z >= TWO_32) {
      // Above 32 bits: 7 bits at a time by division (exact for safe integers).
      const low = z % 128;
      buf[p++] = low | 0x80;
      z = (z - low) / 128;
    }
    let v = z >>> 0;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** `len` bytes of `src` from `from`. */
  copy(src: Buffer, from: number, len: number): void {
    const buf = this.buf;
    const p = this.pos;
    if (len < 48) for (let i = 0; i < len; i++) buf[p + i] = src[from + i]!;
    else src.copy(buf, p, from, from + len);
    this.pos = p + len;
  }

  endRecord(keyStart: number, valueStart: number): void {
    const i = this.records * 3;
    if (i + 3 > this.bounds.length) {
      const next = new Int32Array(this.bounds.length * 2);
      next.set(this.bounds);
      this.bounds = next;
    }
    this.bounds[i] = keyStart;
    this.bounds[i + 1] = valueStart;
    this.bounds[i + 2] = this.pos;
    this.records++;
  }
}

/** Prometheus's label-name grammar [a-zA-Z_][a-zA-Z0-9_]*, checked on the raw bytes. */
function validLabelName(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) continue;
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
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a) continue;
    if (i > start && c >= 0x30 && c <= 0x39) continue;
    return false;
  }
  return true;
}

// "__name__"
const NAME = [0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f];

function isNameLabel(buf: Buffer, start: number, end: number): boolean {
  if (end - start !== 8) return false;
  for (let i = 0; i < 8; i++) if (buf[start + i] !== NAME[i]) return false;
  return true;
}

/** Byte order, as Go compares strings: negative when a < b. */
function compareBytes(buf: Buffer, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = buf[as + i]! - buf[bs + i]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/** Quoted and cut, so a hostile value cannot make a reply multi-line or huge. */
function show(buf: Buffer, start: number, end: number): string {
  const s = buf.toString('utf8', start, Math.min(end, start + 256));
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

// Scratch for one series' labels, reused across series and requests (encoding is synchronous):
// 4 offsets per label (name start, name end, value start, value end).
let lab = new Int32Array(4 * 64);
// The label submessages found by the first walk over a series: start and end of each.
let labelMsg = new Int32Array(2 * 64);

/** Room for `count` labels in the scratch arrays (labelMsg's entries are kept). */
function ensureScratch(count: number): void {
  if (2 * count <= labelMsg.length) return;
  const cap = 2 * Math.max(count, labelMsg.length / 2);
  const m = new Int32Array(2 * cap);
  m.set(labelMsg);
  labelMsg = m;
  lab = new Int32Array(4 * cap);
}

/** One hasher for every series (decoding is synchronous: one series at a time). */
const hash = new Fnv64();

interface State {
  readonly r: Reader;
  readonly out: Out;
  readonly limits: Limits;
  /** Avro bytes after a record's samples that every record of the request shares: source, receivedAtMs. */
  readonly trailer: Buffer;
  readonly schemaId: number;
  series: number;
  /** Labels of the series being encoded (their offsets are in `lab`). */
  labels: number;
  samples: number;
  staleMarkers: number;
  exemplars: number;
  histograms: number;
  metadata: number;
}

function where(st: State, labels: number, index = st.series): string {
  const buf = st.r.buf;
  for (let i = 0; i < labels; i++) {
    const ns = lab[4 * i]!;
    const ne = lab[4 * i + 1]!;
    if (ns >= 0 && isNameLabel(buf, ns, ne)) return `series ${index} (${buf.toString('latin1', lab[4 * i + 2]!, Math.min(lab[4 * i + 3]!, lab[4 * i + 2]! + 64))})`;
  }
  return `series ${index}`;
}

/**
 * Decodes, validates and encodes one request. `body` is the uncompressed protobuf; the result's
 * buffer is new and owned by the caller (records may be handed on as views of it).
 */
export function encodeWriteRequest(body: Buffer, ctx: RecordContext, limits: Limits = NO_LIMITS): EncodedRequest {
  const trailerOut = new Out(64 + 3 * ctx.source.length);
  const src = Buffer.from(ctx.source, 'utf8');
  trailerOut.ensure(src.length + 16);
  trailerOut.smallInt(src.length);
  trailerOut.copy(src, 0, src.length);
  trailerOut.long(ctx.receivedAtMs);
  const st: State = {
    r: new Reader(body),
    // The records take about as many bytes as the protobuf, plus ~50 per series.
    out: new Out(body.length + (body.length >>> 2) + 4096),
    limits,
    trailer: trailerOut.buf.subarray(0, trailerOut.pos),
    schemaId: ctx.schemaId,
    series: 0,
    labels: 0,
    samples: 0,
    staleMarkers: 0,
    exemplars: 0,
    histograms: 0,
    metadata: 0,
  };
  const r = st.r;
  const end = body.length;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      if (wt !== WT_LEN) throw wrongType('WriteRequest.timeseries', wt);
      const stop = r.delimited(end);
      if (st.series >= limits.maxSeries) throw reject('too_many_series', `more than ${limits.maxSeries} series in one request`);
      encodeSeries(st, stop);
      r.pos = stop;
    } else if (field === 3) {
      if (wt !== WT_LEN) throw wrongType('WriteRequest.metadata', wt);
      r.pos = r.delimited(end);
      st.metadata++;
    } else if (field === 0) {
      throw reject('bad_protobuf', 'field number 0');
    } else {
      r.skip(wt, end);
    }
  }
  const o = st.out;
  return {
    buf: o.buf,
    bounds: o.bounds,
    records: o.records,
    series: st.series,
    samples: st.samples,
    staleMarkers: st.staleMarkers,
    exemplarsDropped: st.exemplars,
    histogramsDropped: st.histograms,
    metadata: st.metadata,
  };
}

function encodeSeries(st: State, end: number): void {
  const r = st.r;
  const buf = r.buf;
  const limits = st.limits;

  // First walk: where the labels are, how many samples, exemplars and histograms.
  let labels = 0;
  let samples = 0;
  let exemplars = 0;
  let histograms = 0;
  let firstSample = -1;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 2) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.samples', wt);
      r.pos = r.delimited(end);
      if (firstSample < 0) firstSample = at;
      samples++;
      if (st.samples + samples > limits.maxSamples) throw reject('too_many_samples', `more than ${limits.maxSamples} samples in one request`);
    } else if (field === 1) {
      if (wt !== WT_LEN) throw wrongType('TimeSeries.labels', wt);
      const stop = r.delimited(end);
      if (labels >= limits.maxLabels) throw reject('too_many_labels', `series ${st.series} has more than ${limits.maxLabels} labels`);
      ensureScratch(labels + 1);
      labelMsg[2 * labels] = r.pos;
      labelMsg[2 * labels + 1] = stop;
      labels++;
      r.pos = stop;
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

  // Labels: parse and validate all, even for a series that yields no record.
  for (let i = 0; i < labels; i++) {
    const le = labelMsg[2 * i + 1]!;
    r.pos = labelMsg[2 * i]!;
    let ns = r.pos;
    let ne = ns;
    let vs = ns;
    let ve = ns;
    while (r.pos < le) {
      const t = r.uint32(le);
      const f = t >>> 3;
      const w = t & 7;
      if (f === 1 || f === 2) {
        if (w !== WT_LEN) throw wrongType(f === 1 ? 'Label.name' : 'Label.value', w);
        const e = r.delimited(le);
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
      } else r.skip(w, le);
    }
    lab[4 * i] = ns;
    lab[4 * i + 1] = ne;
    lab[4 * i + 2] = vs;
    lab[4 * i + 3] = ve;
  }

  const out = st.out;
  // Record: key (16 hex digits), then the value: framing, fingerprint, labels, samples, trailer.
  let longest = 0;
  for (let i = 0; i < labels; i++) longest += lab[4 * i + 1]! - lab[4 * i]! + lab[4 * i + 3]! - lab[4 * i + 2]! + 10;
  out.ensure(KEY_BYTES + 5 + 1 + KEY_BYTES + 2 + longest + 1);
  const keyStart = out.pos;
  out.pos += KEY_BYTES;
  const valueStart = out.pos;
  const ob = out.buf;
  ob[valueStart] = MAGIC;
  ob.writeUInt32BE(st.schemaId >>> 0, valueStart + 1);
  ob[valueStart + 5] = KEY_BYTES * 2; // the fingerprint: an Avro string of 16 bytes
  out.pos = valueStart + 6 + KEY_BYTES;
  const countAt = out.pos++;

  // The series key (core/series-key.ts) over every kept label.
  hash.reset();
  let kept = 0;
  let hasName = false;
  let prevNs = -1;
  let prevNe = -1;
  for (let i = 0; i < labels; i++) {
    const ns = lab[4 * i]!;
    const ne = lab[4 * i + 1]!;
    const vs = lab[4 * i + 2]!;
    const ve = lab[4 * i + 3]!;
    if (ne === ns) throw reject('empty_label_name', `${where(st, labels)}: a label has an empty name`);
    if (ne - ns > limits.maxLabelNameBytes) throw reject('label_name_too_long', `${where(st, labels)}: label name ${show(buf, ns, ne)} is ${ne - ns} bytes, more than ${limits.maxLabelNameBytes}`);
    if (!validLabelName(buf, ns, ne)) throw reject('invalid_label_name', `${where(st, labels)}: label name ${show(buf, ns, ne)} does not match [a-zA-Z_][a-zA-Z0-9_]*`);
    if (prevNs >= 0) {
      const c = compareBytes(buf, ns, ne, prevNs, prevNe);
      if (c === 0) throw reject('duplicate_label', `${where(st, labels)}: label ${show(buf, ns, ne)} appears twice`);
      if (c < 0) throw reject('unsorted_labels', `${where(st, labels)}: label ${show(buf, ns, ne)} comes after ${show(buf, prevNs, prevNe)}; names must be sorted`);
    }
    prevNs = ns;
    prevNe = ne;
    if (isNameLabel(buf, ns, ne)) {
      if (!validMetricName(buf, vs, ve)) throw reject('invalid_metric_name', `series ${st.series}: metric name ${show(buf, vs, ve)} does not match [a-zA-Z_:][a-zA-Z0-9_:]*`);
      hasName = true;
    } else if (ve === vs) {
      // An empty value means "absent", as in Prometheus: not carried, not hashed.
      continue;
    }
    if (ve - vs > limits.maxLabelValueBytes) throw reject('label_value_too_long', `${where(st, labels)}: value of label ${show(buf, ns, ne)} is ${ve - vs} bytes, more than ${limits.maxLabelValueBytes}`);
    hash.label(buf, ns, ne, vs, ve);
    let any = 0;
    for (let k = vs; k < ve; k++) any |= buf[k]!;
    if (any >= 0x80 && !isUtf8(buf.subarray(vs, ve))) throw reject('invalid_utf8', `${where(st, labels)}: value of label ${show(buf, ns, ne)} is not valid UTF-8`);
    out.smallInt(ne - ns);
    out.copy(buf, ns, ne - ns);
    out.smallInt(ve - vs);
    out.copy(buf, vs, ve - vs);
    kept++;
  }
  if (!hasName) throw reject('missing_metric_name', `series ${st.series} has no __name__ label`);

  st.series++;
  st.labels = labels;
  st.samples += samples;
  st.exemplars += exemplars;
  st.histograms += histograms;
  // A series with nothing to carry and nothing dropped produces no record.
  if (samples === 0 && exemplars === 0 && histograms === 0) {
    out.pos = keyStart;
    return;
  }
  // The map's block count (one byte below 64 labels; else shift the pairs by one byte).
  if (kept < 64) ob[countAt] = kept * 2;
  else {
    out.ensure(1);
    const b = out.buf;
    b.copyWithin(countAt + 2, countAt + 1, out.pos);
    b[countAt] = ((kept * 2) & 0x7f) | 0x80;
    b[countAt + 1] = (kept * 2) >>> 7;
    out.pos++;
  }
  out.ensure(1);
  out.buf[out.pos++] = 0; // end of the labels map
  // The fingerprint, in the key and in the value.
  hash.hexInto(out.buf, keyStart);
  out.buf.copy(out.buf, valueStart + 6, keyStart, keyStart + KEY_BYTES);
  const headEnd = out.pos;

  // Samples, in the sender's order, at most maxSamplesPerRecord per record.
  const perRecord = limits.maxSamplesPerRecord;
  let left = samples;
  let first = true;
  r.pos = firstSample;
  let recKey = keyStart;
  let recValue = valueStart;
  do {
    const n = Math.min(left, perRecord);
    if (!first) {
      // The next record of a split series: the same key, framing, fingerprint and labels.
      const len = headEnd - keyStart;
      out.ensure(len);
      recKey = out.pos;
      recValue = recKey + (valueStart - keyStart);
      out.buf.copyWithin(recKey, keyStart, headEnd);
      out.pos += len;
    }
    out.ensure(n * 19 + 5 + 1 + st.trailer.length + 10);
    if (n > 0) {
      out.smallInt(n);
      encodeSamples(st, end, n);
    }
    out.buf[out.pos++] = 0; // end of the samples array
    out.copy(st.trailer, 0, st.trailer.length);
    out.smallInt(first ? exemplars : 0);
    out.smallInt(first ? histograms : 0);
    if (out.pos - recValue > limits.maxRecordBytes) {
      throw reject('record_too_large', `${where(st, labels, st.series - 1)}: its record would be ${out.pos - recValue} bytes, more than ${limits.maxRecordBytes}`);
    }
    out.endRecord(recKey, recValue);
    left -= n;
    first = false;
  } while (left > 0);
}

// Prometheus's staleness marker: the NaN 0x7ff0000000000002, as its little-endian bytes.
const STALE = [0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f];

/** Writes the next `n` samples of the series (reader positioned at or before the next one). */
function encodeSamples(st: State, end: number, n: number): void {
  const r = st.r;
  const buf = r.buf;
  const out = st.out;
  const ob = out.buf;
  const min = st.limits.minTimestampMs;
  const max = st.limits.maxTimestampMs;
  let done = 0;
  while (done < n) {
    let valueAt = -1;
    let ts = NaN;
    const p0 = r.pos;
    // Fast path: a Sample as Prometheus writes it, `12 LEN 09 <8 value bytes> 10 <timestamp varint>`,
    // with a timestamp of at most 7 varint bytes (up to 2^49 ms) ending exactly at the message end.
    if (p0 + 12 < end && buf[p0] === 0x12 && buf[p0 + 2] === 0x09 && buf[p0 + 11] === 0x10) {
      const len = buf[p0 + 1]!;
      const stop = p0 + 2 + len;
      if (len < 0x80 && stop <= end) {
        let q = p0 + 12;
        let v = 0;
        let mul = 1;
        while (q < stop && mul < 0x2000000000000) {
          const b = buf[q++]!;
          v += (b & 0x7f) * mul;
          if (b < 0x80) {
            if (q === stop) {
              ts = v;
              valueAt = p0 + 3;
              r.pos = stop;
            }
            break;
          }
          mul *= 128;
        }
      }
    }
    if (valueAt < 0) {
      const tag = r.uint32(end);
      if (tag !== ((2 << 3) | WT_LEN)) {
        // Labels, exemplars, unknown fields between samples: already validated by the first walk.
        r.skip(tag & 7, end);
        continue;
      }
      const stop = r.delimited(end);
      ts = 0;
      while (r.pos < stop) {
        const t = r.uint32(stop);
        if (t === ((1 << 3) | WT_FIXED64)) {
          r.advance(8, stop);
          valueAt = r.pos - 8;
        } else if (t === ((2 << 3) | WT_VARINT)) {
          ts = r.int64(stop);
        } else {
          const f = t >>> 3;
          if (f === 1) throw wrongType('Sample.value', t & 7);
          if (f === 2) throw wrongType('Sample.timestamp', t & 7);
          if (f === 0) throw reject('bad_protobuf', 'field number 0');
          r.skip(t & 7, stop);
        }
      }
      r.pos = stop;
    }
    if (!(ts >= min && ts <= max)) {
      const shown = Number.isNaN(ts) ? 'beyond ±2^53' : String(ts);
      throw reject('timestamp_out_of_range', `${where(st, st.labels, st.series - 1)}: sample timestamp ${shown} ms is outside the accepted window ${min}..${max} ms (${isoOf(min)} to ${isoOf(max)})`);
    }
    // timestampMs: an Avro long, zig-zag (2·ts for ts ≥ 0); above 2^31 as 28 low bits in four
    // bytes, then the rest (multiplying by a power of two is exact, so no division is needed).
    const z = ts * 2;
    let p = out.pos;
    let v: number;
    if (z < 0x80000000) v = z;
    else {
      v = Math.floor(z * (1 / 0x10000000));
      const lo = z - v * 0x10000000;
      ob[p] = (lo & 0x7f) | 0x80;
      ob[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
      ob[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
      ob[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
      p += 4;
    }
    while (v >= 0x80) {
      ob[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    ob[p++] = v;
    // value: the sender's 8 bytes (a missing value is protobuf's default, 0.0); stale: from its bits.
    let stale = 0;
    if (valueAt >= 0) {
      ob[p] = buf[valueAt]!;
      ob[p + 1] = buf[valueAt + 1]!;
      ob[p + 2] = buf[valueAt + 2]!;
      ob[p + 3] = buf[valueAt + 3]!;
      ob[p + 4] = buf[valueAt + 4]!;
      ob[p + 5] = buf[valueAt + 5]!;
      ob[p + 6] = buf[valueAt + 6]!;
      ob[p + 7] = buf[valueAt + 7]!;
      if (ob[p + 7] === 0x7f) {
        stale = 1;
        for (let k = 0; k < 8; k++) if (ob[p + k] !== STALE[k]) stale = 0;
      }
    } else {
      for (let k = 0; k < 8; k++) ob[p + k] = 0;
    }
    ob[p + 8] = stale;
    st.staleMarkers += stale;
    out.pos = p + 9;
    done++;
  }
}

function isoOf(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

/** Record `i`'s key, as a view of the request's buffer. */
export function keyOf(req: EncodedRequest, i: number): Buffer {
  return req.buf.subarray(req.bounds[3 * i]!, req.bounds[3 * i + 1]!);
}

/** Record `i`'s value (Confluent-framed Avro MetricBatch), as a view of the request's buffer. */
export function valueOf(req: EncodedRequest, i: number): Buffer {
  return req.buf.subarray(req.bounds[3 * i + 1]!, req.bounds[3 * i + 2]!);
}
