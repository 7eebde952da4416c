/**
 * A real Alertmanager (Debian's package, started by infra/alertmanager/up.sh on 127.0.0.1:19093
 * with its own temporary storage): an anomaly becomes an alert in its API with the explanation
 * as annotation; its incident becomes an alert that the RCA result annotates with the top root
 * cause; when the incident resolves, both alerts resolve (Alertmanager stops listing them as
 * active). Fails if Alertmanager cannot start.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, waitFor } from '../../helpers/infra.ts';
import { harness, type Harness } from './helpers.ts';

let h: Harness;
let am = '';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

before(async () => {
  am = execFileSync('bash', [join(ROOT, 'infra', 'alertmanager', 'up.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 }).trim();
  h = await harness('alerts-am');
});

after(async () => {
  await h?.close();
  execFileSync('bash', [join(ROOT, 'infra', 'alertmanager', 'down.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
});

async function amAlerts(run: string): Promise<AmAlert[]> {
  const res = await fetch(`${am}/api/v2/alerts?filter=${encodeURIComponent(`run="${run}"`)}`);
  assert.equal(res.status, 200);
  return (await res.json()) as AmAlert[];
}

test('an anomaly becomes an Alertmanager alert and resolves when its incident resolves', async () => {
  const server = await h.server({ alertmanager: [am], tickMs: 200, resendMs: 2000 });
  // A label unique to this run, so alerts of other runs in the same Alertmanager never count.
  const run = h.prefix.replace(/\W/g, '_');
  await h.anomaly({ id: 'am-a1', labels: { __name__: 'http_latency_seconds', service: 'checkout', run }, severity: 'critical', explanation: 'latency 2.1 s is 6 sd above its 1h mean' });
  const [anomaly] = await waitFor(async () => {
    const list = await amAlerts(run);
    return list.length === 1 ? list : null;
  }, 'the anomaly alert in Alertmanager', 20000);
  assert.deepEqual(anomaly.labels, { alertname: 'PanoptesAnomaly', metric: 'http_latency_seconds', service: 'checkout', run, severity: 'critical', rule: 'latency-spike' });
  assert.equal(anomaly.annotations.summary, 'latency 2.1 s is 6 sd above its 1h mean');
  assert.equal(anomaly.annotations.anomaly_id, 'am-a1');
  assert.equal(anomaly.status.state, 'active');
  assert.ok(anomaly.generatorURL.startsWith(server.url), anomaly.generatorURL);
  assert.ok(new Date(anomaly.endsAt).getTime() > Date.now(), 'firing: endsAt ahead');

  await h.incident({ id: `inc-${run}`, status: 'OPEN', anomalyIds: ['am-a1'], anomalyCount: 1, components: ['checkout', 'db'], summary: 'checkout latency' });
  await h.rca({ incidentId: `inc-${run}`, causes: [{ node: 'db:latency', component: 'db', score: 0.91, path: ['db:latency', 'checkout:latency'], evidence: [] }] });
  // The incident alert carries the run label only through its id, so look it up by incident.
  const incident = await waitFor(async () => {
    const res = await fetch(`${am}/api/v2/alerts?filter=${encodeURIComponent(`incident="inc-${run}"`)}`);
    const list = (await res.json()) as AmAlert[];
    return list.length === 1 && list[0].annotations.root_cause ? list[0] : null;
  }, 'the incident alert with its root cause', 20000);
  assert.equal(incident.labels.alertname, 'PanoptesIncident');
  assert.equal(incident.labels.severity, 'critical');
  assert.equal(incident.annotations.root_cause, 'db:latency');
  assert.equal(incident.annotations.root_cause_path, 'db:latency -> checkout:latency');
  assert.equal(incident.annotations.summary, 'checkout latency');

  // While firing, the alert is re-sent every resendMs with endsAt pushed further ahead.
  await new Promise((r) => setTimeout(r, 2500));
  const later = (await amAlerts(run))[0];
  assert.equal(later?.status.state, 'active');
  assert.ok(new Date(later.endsAt).getTime() > new Date(anomaly.endsAt).getTime(), `re-sent: endsAt ${later.endsAt} after ${anomaly.endsAt}`);

  await h.incident({ id: `inc-${run}`, status: 'RESOLVED', anomalyIds: ['am-a1'], anomalyCount: 1, components: ['checkout', 'db'], summary: 'checkout latency' });
  await waitFor(async () => ((await amAlerts(run)).length === 0 ? true : null), 'the anomaly alert resolved', 20000);
  await waitFor(async () => {
    const res = await fetch(`${am}/api/v2/alerts?filter=${encodeURIComponent(`incident="inc-${run}"`)}`);
    return ((await res.json()) as AmAlert[]).length === 0 ? true : null;
  }, 'the incident alert resolved', 20000);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /panoptes_alerts_alertmanager_pushes_total\{result="ok"\} \d+/);
  await server.close();
});
