/**
 * Webhook signatures. Each POST carries
 *
 *     X-Panoptes-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is inside the signed text, so a captured request cannot be replayed later with a
 * fresh timestamp; receivers reject signatures older than a tolerance (5 minutes is usual).
 * Each attempt is signed anew (its own timestamp). Verification compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-panoptes-signature';

export function signature(secret: string, timestampS: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/** True when `header` is a valid signature of `body` made within `toleranceS` of `nowS`. */
export function verifySignature(secret: string, header: string | undefined, body: string | Buffer, nowS: number, toleranceS = 300): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as [string, string];
  }));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signature(secret, t, body).split('v1=')[1], 'hex');
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
