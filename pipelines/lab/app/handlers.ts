/**
 * What each service does (the hotel-reservation shape): frontend fans out to search, profile,
 * reservation and user; search asks geo for nearby hotels and rate for their prices; rate and
 * profile read through a Redis cache into PostgreSQL; reservation and user use PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../core/random.ts';
import type { LabServiceName } from '../types.ts';
import type { Deps } from './deps.ts';
import { HttpError } from './http-client.ts';
import { HOTELS } from './topology.ts';

export type Handler = (input: Record<string, unknown>) => Promise<unknown>;

/** Hotel coordinates, the same in every process of a run (from the seed). */
export function hotelCoords(seed: number): Array<{ id: number; lat: number; lon: number }> {
  const rnd = mulberry32(seed);
  return Array.from({ length: HOTELS }, (_, i) => ({ id: i + 1, lat: 37.7 + rnd() * 0.2, lon: -122.5 + rnd() * 0.2 }));
}

function num(v: unknown, dflt: number): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

function ids(v: unknown): number[] {
  const out = String(v ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0 && n <= HOTELS);
  if (!out.length) throw new HttpError(400, 'ids required');
  return out;
}

export function hashPassword(user: string): string {
  return createHash('sha256').update(`lab:${user}`).digest('hex');
}

export function handlersFor(name: LabServiceName, deps: Deps, seed: number): Record<string, Handler> {
  const t = deps.tables;
  switch (name) {
    case 'geo': {
      const coords = hotelCoords(seed);
      return {
        'GET /nearby': async (q) => {
          const lat = num(q.lat, 37.8);
          const lon = num(q.lon, -122.4);
          const near = coords
            .map((h) => ({ id: h.id, d: (h.lat - lat) ** 2 + (h.lon - lon) ** 2 }))
            .sort((a, b) => a.d - b.d)
            .slice(0, 5);
          return { ids: near.map((h) => h.id) };
        },
      };
    }
    case 'rate':
      return {
        'GET /rates': async (q) => {
          const want = ids(q.ids);
          const key = `${deps.prefix}rates:${want.join(',')}`;
          const cached = await deps.redis('GET', key);
          if (typeof cached === 'string') return { rates: JSON.parse(cached) };
          const rows = await deps.sql<{ hotel_id: number; price: string }>(`SELECT hotel_id, price FROM ${t.rates} WHERE hotel_id = ANY($1::int[]) ORDER BY price`, [want]);
          const rates = rows.map((r) => ({ id: r.hotel_id, price: Number(r.price) }));
          // A short TTL keeps PostgreSQL in the path under steady load (slow-db must show).
          await deps.redis('SET', key, JSON.stringify(rates), 'PX', 2000);
          return { rates };
        },
      };
    case 'profile':
      return {
        'GET /profiles': async (q) => {
          const want = ids(q.ids);
          const key = `${deps.prefix}profiles:${want.join(',')}`;
          const cached = await deps.redis('GET', key);
          if (typeof cached === 'string') return { hotels: JSON.parse(cached) };
          const hotels = await deps.sql(`SELECT id, name, city FROM ${t.hotels} WHERE id = ANY($1::int[]) ORDER BY id`, [want]);
          await deps.redis('SET', key, JSON.stringify(hotels), 'PX', 2000);
          return { hotels };
        },
      };
    case 'reservation':
      return {
        'POST /reserve': async (b) => {
          const hotel = num(b.hotelId, 0);
          if (hotel < 1 || hotel > HOTELS) throw new HttpError(400, 'bad hotelId');
          const user = String(b.user ?? 'anon').slice(0, 40);
          const rows = await deps.sql<{ n: string }>(`SELECT count(*) AS n FROM ${t.reservations} WHERE hotel_id = $1`, [hotel]);
          const booked = Number(rows[0]?.n ?? 0);
          // Capacity is generous: the point is the query path, not sold-out answers.
          if (booked >= 10_000) return { ok: false, reason: 'full' };
          await deps.sql(`INSERT INTO ${t.reservations} (hotel_id, username, rooms) VALUES ($1, $2, $3)`, [hotel, user, Math.max(1, num(b.rooms, 1))]);
          return { ok: true };
        },
      };
    case 'user':
      return {
        'POST /login': async (b) => {
          const user = String(b.user ?? '');
          const rows = await deps.sql<{ pw_hash: string }>(`SELECT pw_hash FROM ${t.users} WHERE name = $1`, [user]);
          return { ok: rows.length > 0 && rows[0]!.pw_hash === hashPassword(user) };
        },
      };
    case 'search':
      return {
        'GET /search': async (q) => {
          const near = (await deps.call('geo', 'GET', `/nearby?lat=${num(q.lat, 37.8)}&lon=${num(q.lon, -122.4)}`)) as { ids: number[] };
          const rates = (await deps.call('rate', 'GET', `/rates?ids=${near.ids.join(',')}`)) as { rates: Array<{ id: number; price: number }> };
          return { ids: rates.rates.map((r) => r.id), rates: rates.rates };
        },
      };
    case 'frontend':
      return {
        'GET /hotels': async (q) => {
          const found = (await deps.call('search', 'GET', `/search?lat=${num(q.lat, 37.8)}&lon=${num(q.lon, -122.4)}`)) as { ids: number[] };
          if (!found.ids.length) return { hotels: [] };
          const profiles = (await deps.call('profile', 'GET', `/profiles?ids=${found.ids.join(',')}`)) as { hotels: unknown[] };
          return { hotels: profiles.hotels };
        },
        'POST /reservation': async (b) => {
          const login = (await deps.call('user', 'POST', '/login', { user: b.user })) as { ok: boolean };
          if (!login.ok) throw new HttpError(401, 'login failed');
          return deps.call('reservation', 'POST', '/reserve', { hotelId: b.hotelId, user: b.user, rooms: b.rooms });
        },
        'POST /login': async (b) => deps.call('user', 'POST', '/login', { user: b.user }),
      };
  }
}
