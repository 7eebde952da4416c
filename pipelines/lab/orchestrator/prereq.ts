/** The one machine prerequisite the lab cannot start without, checked before anything starts. */
import { existsSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';

export const PROMETHEUS_BIN = process.env.PANOPTES_PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export function assertPrometheusInstalled(bin = PROMETHEUS_BIN): void {
  if (!existsSync(bin)) {
    throw new ConfigError([{ path: 'prometheus', message: `${bin} is missing: the lab runs Debian's Prometheus. Install it with \`sudo bash infra/debian.sh\` (apt package prometheus)` }]);
  }
}
