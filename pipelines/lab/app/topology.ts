/**
 * The hotel-reservation app's shape: which services exist, whom they call, what they store, and the
 * port layout under a base port. Pure data, shared by the orchestrating side and the service process.
 */
import type { LabComponent, LabResourceName, LabServiceName } from '../types.ts';

export const LAB_SERVICES: readonly LabServiceName[] = ['frontend', 'search', 'geo', 'rate', 'profile', 'reservation', 'user'];
export const LAB_RESOURCES: readonly LabResourceName[] = ['postgres', 'redis'];

export const CALLS: Record<LabServiceName, LabServiceName[]> = {
  frontend: ['search', 'profile', 'reservation', 'user'],
  search: ['geo', 'rate'],
  geo: [],
  rate: [],
  profile: [],
  reservation: [],
  user: [],
};

export const STORES: Record<LabServiceName, LabResourceName[]> = {
  frontend: [],
  search: [],
  geo: [],
  rate: ['redis', 'postgres'],
  profile: ['redis', 'postgres'],
  reservation: ['postgres'],
  user: ['postgres'],
};

/** Offsets from the base port: services 0..6, proxies 10 (postgres) 11 (redis) 12 (admin/metrics). */
export function portOf(basePort: number, c: LabServiceName | 'postgres-proxy' | 'redis-proxy' | 'proxy-admin' | 'unused'): number {
  switch (c) {
    case 'postgres-proxy':
      return basePort + 10;
    case 'redis-proxy':
      return basePort + 11;
    case 'proxy-admin':
      return basePort + 12;
    case 'unused':
      // Nothing listens here: the misconfig fault points a dependency at it.
      return basePort + 9;
    default:
      return basePort + LAB_SERVICES.indexOf(c);
  }
}

export function depsOf(name: LabServiceName): LabComponent[] {
  return [...CALLS[name], ...STORES[name]];
}

/** Number of hotels seeded per run (geo, rate, profile agree on ids 1..N). */
export const HOTELS = 60;
export const USERS = 50;

export function tableNames(runId: string): { hotels: string; rates: string; reservations: string; users: string } {
  return { hotels: `lab_${runId}_hotels`, rates: `lab_${runId}_rates`, reservations: `lab_${runId}_reservations`, users: `lab_${runId}_users` };
}
