/**
 * The series fingerprint: FNV-1a 64 over the UTF-8 bytes of `name 0xff value 0xff` for every
 * label in ascending name order (`__name__` included; labels with an empty value are left out,
 * as Prometheus treats them as absent), printed as 16 lower-case hex digits. It is the record
 * key on the `metrics` topic, so one series always lands on one partition.
 *
 * FNV-1a rather than Prometheus's xxhash64: it is specified in a line, is easy to recompute in
 * any language that reads the topic, and can be computed in 16-bit limbs on plain JS numbers
 * (no BigInt on the hot path). Collisions do not merge series downstream: records carry their
 * full label set.
 */

const SEP = 0xff;

export class Fnv64 {
  // Four 16-bit limbs, least significant first, of the offset basis 0xcbf29ce484222325.
  private h0 = 0x2325;
  private h1 = 0x8422;
  private h2 = 0x9ce4;
  private h3 = 0xcbf2;

  /** Back to the offset basis, to hash another series with the same object. */
  reset(): void {
    this.h0 = 0x2325;
    this.h1 = 0x8422;
    this.h2 = 0x9ce4;
    this.h3 = 0xcbf2;
  }

  byte(b: number): void {
    this.h0 ^= b;
    // Multiply by the prime 0x100000001b3 = 2^40 + 0x1b3, keeping 64 bits.
    const t0 = this.h0 * 0x1b3;
    let t1 = this.h1 * 0x1b3;
    let t2 = this.h2 * 0x1b3 + this.h0 * 0x100;
    let t3 = this.h3 * 0x1b3 + this.h1 * 0x100;
    t1 += t0 >>> 16;
    t2 += t1 >>> 16;
    t3 += t2 >>> 16;
    this.h0 = t0 & 0xffff;
    this.h1 = t1 & 0xffff;
    this.h2 = t2 & 0xffff;
    this.h3 = t3 & 0xffff;
  }

  bytes(buf: Uint8Array, start: number, end: number): void {
    let h0 = this.h0;
    let h1 = this.h1;
    let h2 = this.h2;
    let h3 = this.h3;
    for (let i = start; i < end; i++) {
      h0 ^= buf[i]!;
      const t0 = h0 * 0x1b3;
      let t1 = h1 * 0x1b3;
      let t2 = h2 * 0x1b3 + h0 * 0x100;
      let t3 = h3 * 0x1b3 + h1 * 0x100;
      t1 += t0 >>> 16;
      t2 += t1 >>> 16;
      t3 += t2 >>> 16;
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
    this.h0 = h0;
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
  }

  /** Hashes one label as `name 0xff value 0xff`, from byte ranges of `buf`. */
  label(buf: Uint8Array, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    this.bytes(buf, nameStart, nameEnd);
    this.byte(SEP);
    this.bytes(buf, valueStart, valueEnd);
    this.byte(SEP);
  }

  hex(): string {
    return hex4(this.h3) + hex4(this.h2) + hex4(this.h1) + hex4(this.h0);
  }

  /** Writes `hex()` as 16 ASCII bytes into `out` at `at` (no string built). */
  hexInto(out: Uint8Array, at: number): void {
    limbInto(out, at, this.h3);
    limbInto(out, at + 4, this.h2);
    limbInto(out, at + 8, this.h1);
    limbInto(out, at + 12, this.h0);
  }
}

/** Four hex digits of a 16-bit limb as character codes. */
function limbInto(out: Uint8Array, at: number, limb: number): void {
  const hi = 2 * (limb >>> 8);
  const lo = 2 * (limb & 0xff);
  out[at] = HEX_CODES[hi]!;
  out[at + 1] = HEX_CODES[hi + 1]!;
  out[at + 2] = HEX_CODES[lo]!;
  out[at + 3] = HEX_CODES[lo + 1]!;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** The same as character codes: byte b's two digits at 2b and 2b + 1. */
const HEX_CODES = Uint8Array.from(HEX.flatMap((h) => [h.charCodeAt(0), h.charCodeAt(1)]));

function hex4(n: number): string {
  return HEX[n >>> 8]! + HEX[n & 0xff]!;
}

/** The fingerprint of a label set given as an object (any key order). */
export function fingerprintOf(labels: Record<string, string>): string {
  const h = new Fnv64();
  for (const name of Object.keys(labels).sort(compareUtf8)) {
    const value = labels[name]!;
    if (value === '') continue;
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    h.label(Buffer.concat([n, v]), 0, n.length, n.length, n.length + v.length);
  }
  return h.hex();
}

/** Byte order of the UTF-8 encodings, as Go compares strings (differs from JS for astral chars). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
