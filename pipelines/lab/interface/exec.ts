/**
 * The agent-cloud interface's `exec`: agents may only run a small allow-list of operations on
 * the lab application. AIOpsLab gives agents a shell behind a deny-list; an allow-list is the
 * safer reading (nothing an agent types can reach the machine), so every command is parsed here
 * and anything that is not exactly one of these forms is refused with the list of what is allowed.
 */
import { PanoptesError } from '../../core/errors.ts';

export type ExecAction =
  | { op: 'restart'; service: string }
  | { op: 'rollback-config'; service: string }
  | { op: 'scale'; service: string; workers: number };

export const EXEC_FORMS = ['restart <service>', 'rollback-config <service>', 'scale <service> <workers 1..8>'] as const;
export const MAX_WORKERS = 8;

/** An exec an agent is not allowed to run (a refusal, not a failure of the lab). */
export class ExecRefused extends PanoptesError {
  constructor(message: string) {
    super('PANOPTES_REFUSED', message);
  }
}

/**
 * Parses one command against the allow-list. `services` are the application's service names;
 * any other target is refused too, so an agent cannot act on the machine's shared servers.
 */
export function parseExec(command: string, services: readonly string[]): ExecAction {
  const allowed = `allowed: ${EXEC_FORMS.join(' | ')}; services: ${services.join(', ')}`;
  if (typeof command !== 'string' || command.length > 200 || /[;&|`$<>\\\n\r]/.test(command)) {
    throw new ExecRefused(`exec refused: "${String(command).slice(0, 80)}" is not an allowed operation (${allowed})`);
  }
  const words = command.trim().split(/\s+/);
  const [op, service, n, ...rest] = words;
  const known = (s: string | undefined): s is string => s !== undefined && services.includes(s);
  if ((op === 'restart' || op === 'rollback-config') && known(service) && n === undefined) return { op, service };
  if (op === 'scale' && known(service) && n !== undefined && rest.length === 0 && /^\d+$/.test(n)) {
    const workers = Number(n);
    if (workers >= 1 && workers <= MAX_WORKERS) return { op, service, workers };
  }
  if ((op === 'restart' || op === 'rollback-config' || op === 'scale') && !known(service)) {
    throw new ExecRefused(`exec refused: "${command.trim()}" names no lab service (${allowed})`);
  }
  throw new ExecRefused(`exec refused: "${command.trim()}" is not an allowed operation (${allowed})`);
}

export function formatExec(a: ExecAction): string {
  return a.op === 'scale' ? `scale ${a.service} ${a.workers}` : `${a.op} ${a.service}`;
}
