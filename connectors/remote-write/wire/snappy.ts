/**
 * Snappy block-format decompression (the format remote-write uses, not the framed one), strict:
 * every copy is bounds-checked and the output must come out at exactly the length the header
 * declares. Written here rather than using snappyjs's decoder because that one accepts
 * truncated or overlong streams silently (zero-filling or cutting the output), and copies
 * byte by byte where Buffer.copy/copyWithin can move whole runs.
 * Format: https://github.com/google/snappy/blob/main/format_description.txt
 */
import { reject } from './reject.ts';

/** The uncompressed length the header declares (a varint of at most 5 bytes). */
export function snappyLength(src: Uint8Array): { length: number; headerBytes: number } {
  let len = 0;
  for (let i = 0; i < 5 && i < src.length; i++) {
    const b = src[i]!;
    len += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (len > 0xffffffff) break;
      return { length: len, headerBytes: i + 1 };
    }
  }
  throw reject('bad_snappy', 'missing or invalid snappy length header');
}

export function snappyUncompress(src: Buffer, maxLength: number): Buffer {
  return uncompress(src, maxLength, false);
}

// The output buffer of the last call, kept for the next one unless it grew large.
let reusable: Buffer | null = null;
const KEEP_BYTES = 8 * 1024 * 1024;

/**
 * Like snappyUncompress, into a buffer the next call reuses: the result is valid only until then
 * (the receiver decodes it at once and keeps nothing of it). Saves allocating, and later
 * collecting, a buffer of the body's inflated size per request.
 */
export function snappyUncompressTransient(src: Buffer, maxLength: number): Buffer {
  return uncompress(src, maxLength, true);
}

function uncompress(src: Buffer, maxLength: number, transient: boolean): Buffer {
  const { length, headerBytes } = snappyLength(src);
  if (length > maxLength) {
    throw reject('body_too_large', `decompressed size ${length} exceeds the limit of ${maxLength} bytes`, 413);
  }
  let out: Buffer;
  if (!transient) out = Buffer.allocUnsafe(length);
  else {
    if (reusable === null || reusable.length < length) reusable = Buffer.allocUnsafe(Math.max(length, 64 * 1024));
    out = reusable.subarray(0, length);
    if (reusable.length > KEEP_BYTES) reusable = null;
  }
  const n = src.length;
  let pos = headerBytes;
  let op = 0;
  while (pos < n) {
    const c = src[pos++]!;
    const kind = c & 3;
    if (kind === 0) {
      let len = (c >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > n) throw bad('literal length runs past the input');
        len = 0;
        for (let k = 0; k < extra; k++) len += src[pos + k]! * 2 ** (8 * k);
        len += 1;
        pos += extra;
      }
      if (pos + len > n) throw bad('literal runs past the input');
      if (op + len > length) throw bad('output longer than declared');
      // Native copies only pay off for longer runs.
      if (len < 32) {
        for (let k = 0; k < len; k++) out[op + k] = src[pos + k]!;
      } else src.copy(out, op, pos, pos + len);
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw bad('copy runs past the input');
      len = ((c >>> 2) & 7) + 4;
      offset = ((c >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > n) throw bad('copy runs past the input');
      len = (c >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw bad('copy runs past the input');
      len = (c >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 0x1000000;
      pos += 4;
    }
    if (offset === 0 || offset > op) throw bad('copy offset outside the output');
    if (op + len > length) throw bad('output longer than declared');
    if (offset >= len && len >= 32) out.copyWithin(op, op - offset, op - offset + len);
    else {
      // Short, or overlapping (repeating the last `offset` bytes): forward, byte by byte.
      for (let k = 0; k < len; k++) out[op + k] = out[op - offset + k]!;
    }
    op += len;
  }
  if (op !== length) throw bad(`output is ${op} bytes, header declared ${length}`);
  return out;
}

function bad(why: string): Error {
  return reject('bad_snappy', `invalid snappy block: ${why}`);
}
