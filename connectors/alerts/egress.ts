/**
 * Where webhooks may go. A subscription's URL is chosen by whoever can call the API, so by default
 * the server refuses to POST to addresses inside the network it runs in: loopback, link-local
 * (169.254.0.0/16 holds the cloud metadata services), private (RFC 1918, CGNAT, fc00::/7),
 * unspecified, multicast and reserved ranges, IPv4 embedded in IPv6 (mapped, NAT64, 6to4)
 * judged by its IPv4. `--webhook-allow-private` lifts this for deployments whose receivers live
 * on a private network (and for tests with local receivers).
 *
 * The check runs twice: when a subscription is created (the URL's host, resolved) and on every
 * delivery, on the address the connection is actually made to. Delivery resolves the name itself
 * (the `lookup` given to node:http), refuses the whole name if any of its addresses is refused,
 * and connects to an address it checked, so a name that answers a public address at creation and
 * a private one later (DNS rebinding) is refused at delivery. The socket's remote address is
 * checked once more on connect, before the body is written.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { InputError, PanoptesError } from '../../pipelines/core/errors.ts';

/** A webhook target the policy refuses (never retried: the address will not become allowed). */
export class EgressRefused extends PanoptesError {
  constructor(message: string) {
    super('PANOPTES_REFUSED', message, { retriable: false });
  }
}

type V4 = [number, number, number, number];

const V4_RANGES: [V4, number, string][] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'private (shared address space)'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'reserved (benchmarking)'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

function parseV4(s: string): V4 | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number) as V4;
  return b.every((x) => x <= 255) ? b : null;
}

function inV4(a: V4, base: V4, bits: number): boolean {
  const n = (x: V4) => ((x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3]) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n(a) & mask) === (n(base) & mask);
}

/** The 8 groups of an IPv6 address (zone id dropped), or null. */
function parseV6(s: string): number[] | null {
  let text = s.replace(/%.*$/, '').toLowerCase();
  const tail: number[] = [];
  const m = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (m) {
    const v4 = parseV4(m[2]!);
    if (!v4) return null;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = m[1]!.endsWith('::') ? m[1]! : m[1]!.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  const explicit = head.length + rest.length + tail.length;
  if (head.some(Number.isNaN) || rest.some(Number.isNaN)) return null;
  if (halves.length === 1 && explicit !== 8) return null;
  if (explicit > 8) return null;
  return [...head, ...Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

const v4Of = (hi: number, lo: number): V4 => [hi >> 8, hi & 255, lo >> 8, lo & 255];

function v4Class(a: V4): string | null {
  for (const [base, bits, what] of V4_RANGES) if (inV4(a, base, bits)) return what;
  return null;
}

/**
 * Why an IP address is refused as a webhook target (`loopback`, `link-local`, `private`, …), or
 * null when it is a public address. Anything that is not an IP address is refused too.
 */
export function refusedAddressClass(ip: string): string | null {
  const v4 = parseV4(ip);
  if (v4) return v4Class(v4);
  const g = parseV6(ip);
  if (!g) return 'not an IP address';
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroPrefix(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the IPv4 decides.
  if (zeroPrefix(5) && (g[5] === 0xffff || g[5] === 0)) return v4Class(v4Of(g[6]!, g[7]!));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the embedded IPv4.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Class(v4Of(g[6]!, g[7]!));
  if (g[0] === 0x2002) return v4Class(v4Of(g[1]!, g[2]!));
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private (site-local)';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private (unique local)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return null;
}

export interface EgressPolicy {
  /** Allow loopback, link-local, private and the other internal ranges (--webhook-allow-private). */
  allowPrivate: boolean;
  /** Name resolution (tests replace it); default dns.lookup with every address. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

function defaultResolve(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));
}

function refusal(host: string, addr: string, why: string): string {
  return host === addr ? `${addr} is a ${why} address` : `${host} resolves to ${addr}, a ${why} address`;
}

/** The addresses `host` resolves to, every one checked; throws EgressRefused naming the first refused one. */
async function resolveChecked(host: string, p: EgressPolicy, timeoutMs: number): Promise<LookupAddress[]> {
  const name = bare(host);
  const family = isIP(name);
  if (family !== 0) {
    const why = p.allowPrivate ? null : refusedAddressClass(name);
    if (why) throw new EgressRefused(`${refusal(name, name, why)}; webhooks to internal addresses are refused (start the server with --webhook-allow-private to allow them)`);
    return [{ address: name, family }];
  }
  // RFC 6761: localhost names are loopback, whatever a resolver says.
  if (!p.allowPrivate && /^(.+\.)?localhost\.?$/i.test(name)) throw new EgressRefused(`${refusal(name, '127.0.0.1', 'loopback')}; webhooks to internal addresses are refused (start the server with --webhook-allow-private to allow them)`);
  let timer: NodeJS.Timeout | undefined;
  const addrs = await Promise.race([
    (p.resolve ?? defaultResolve)(name),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (addrs.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' });
  if (!p.allowPrivate) {
    for (const a of addrs) {
      const why = refusedAddressClass(a.address);
      if (why) throw new EgressRefused(`${refusal(name, a.address, why)}; webhooks to internal addresses are refused (start the server with --webhook-allow-private to allow them)`);
    }
  }
  return addrs;
}

/**
 * The creation-time check of a webhook URL: its host must resolve, and to allowed addresses only.
 * Throws InputError with a one-line reason.
 */
export async function checkWebhookUrl(url: string, p: EgressPolicy, timeoutMs = 5000): Promise<void> {
  const u = new URL(url);
  try {
    await resolveChecked(u.hostname, p, timeoutMs);
  } catch (err) {
    if (err instanceof EgressRefused) throw new InputError(err.message);
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError(`host ${bare(u.hostname)} does not resolve (${code})`);
  }
}

export interface PostResult {
  status: number;
  retryAfter: string | null;
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bytes of the answer read (the rest is dropped). */
  maxAnswerBytes?: number;
}

/** A failed attempt before any answer: `kind` says whether it timed out, failed, or was refused. */
export class PostFailed extends Error {
  constructor(message: string, readonly kind: 'timeout' | 'network' | 'refused', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * POSTs `body` to `url` under the egress policy: the connection goes only to an address that was
 * checked. No redirects are followed, no proxy is used, every attempt opens its own connection.
 */
export function postChecked(url: string, body: string | Buffer, p: EgressPolicy, o: PostOptions): Promise<PostResult> {
  const u = new URL(url);
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  const host = bare(u.hostname);
  const checkSocket = (s: Socket): string | null => {
    const addr = s.remoteAddress;
    if (p.allowPrivate || addr === undefined) return null;
    const why = refusedAddressClass(addr);
    return why ? refusal(host, addr, why) : null;
  };
  return new Promise<PostResult>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      if (err instanceof EgressRefused) return reject(new PostFailed(err.message, 'refused', { cause: err }));
      if (timeout.aborted) return reject(new PostFailed(`no answer within ${o.timeoutMs} ms`, 'timeout', { cause: err }));
      const e = err as NodeJS.ErrnoException;
      reject(new PostFailed(`request failed: ${e.code ?? e.message}`, 'network', { cause: err }));
    };
    // An IP literal never goes through `lookup`: check it here.
    if (isIP(host)) {
      const why = p.allowPrivate ? null : refusedAddressClass(host);
      if (why) return fail(new EgressRefused(refusal(host, host, why)));
    }
    const lookup = (hostname: string, options: LookupAllOptions | { all?: boolean }, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
      resolveChecked(hostname, p, o.timeoutMs).then(
        (addrs) => (options.all ? cb(null, addrs) : cb(null, addrs[0]!.address, addrs[0]!.family)),
        (err: Error) => cb(err, '', 0),
      );
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
      method: 'POST',
      headers: { ...o.headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      signal,
      lookup: lookup as never,
    });
    req.on('socket', (s: Socket) => {
      s.once('connect', () => {
        const why = checkSocket(s);
        if (why) req.destroy(new EgressRefused(why));
      });
    });
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      let read = 0;
      const cap = o.maxAnswerBytes ?? 64 * 1024;
      const done = () => {
        if (settled) return;
        settled = true;
        const ra = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(ra) ? ra[0] ?? null : ra ?? null });
      };
      res.on('data', (c: Buffer) => {
        read += c.length;
        if (read > cap) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', (err) => (read > cap ? done() : fail(err)));
      res.on('close', done);
    });
    req.end(body);
  });
}
