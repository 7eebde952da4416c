/**
 * The lab's recording rules, checked by Prometheus's own tools (promtool from Debian's package):
 * the rule file loads, and on synthetic series each lab:<signal> has exactly the contract's labels
 * {component, signal} and the intended value (5xx ratio, 0 not NaN when idle, p95, resources from
 * their callers and the proxy), with nothing leaking from the proxy's process or service-to-service
 * dependency series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prometheusConfig, rulesFileContent } from '../../../pipelines/lab/prometheus/config.ts';

const PROMTOOL = '/usr/bin/promtool';

function promtool(args: string[], cwd: string): string {
  assert.ok(existsSync(PROMTOOL), 'promtool (Debian package prometheus) is installed');
  try {
    return execFileSync(PROMTOOL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
}

const S = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries({ job: 'lab', instance: 'i', ...labels }).map(([k, v]) => `${k}="${v}"`).join(',')}}`,
  values,
});

test('promtool accepts the generated config and rule file, and the rules compute the contract\'s series', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-rules-'));
  writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rulesFileContent(1)));
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(prometheusConfig({ targets: [{ name: 'geo', port: 18602 }, { name: 'proxy', port: 18612 }], rulesFile: join(dir, 'rules.yml'), remoteWriteUrl: 'http://127.0.0.1:9201/api/v1/write', scrapeIntervalS: 1 })));
  assert.match(promtool(['check', 'rules', 'rules.yml'], dir), /SUCCESS: 6 rules found/);
  assert.match(promtool(['check', 'config', 'prometheus.yml'], dir), /SUCCESS/);

  const input = [
    // geo: 20 req/s, half of them 500; p95 in the (0.1, 0.5] bucket
    S('lab_http_requests_total', { component: 'geo', route: '/nearby', code: '200' }, '0+10x40'),
    S('lab_http_requests_total', { component: 'geo', route: '/nearby', code: '500' }, '0+10x40'),
    S('lab_http_request_duration_seconds_bucket', { component: 'geo', route: '/nearby', le: '0.1' }, '0+10x40'),
    S('lab_http_request_duration_seconds_bucket', { component: 'geo', route: '/nearby', le: '0.5' }, '0+20x40'),
    S('lab_http_request_duration_seconds_bucket', { component: 'geo', route: '/nearby', le: '+Inf' }, '0+20x40'),
    S('lab_http_request_duration_seconds_bucket', { component: 'geo', route: 'unknown', le: '+Inf' }, '0+1000x40'),
    S('process_cpu_seconds_total', { component: 'geo' }, '0+0.5x40'),
    S('process_resident_memory_bytes', { component: 'geo' }, '100000000x40'),
    S('up', { component: 'geo' }, '1x40'),
    // user: idle (its counter does not move): errors and latency 0, not NaN
    S('lab_http_requests_total', { component: 'user', route: '/login', code: '200' }, '5x40'),
    S('lab_http_request_duration_seconds_bucket', { component: 'user', route: '/login', le: '+Inf' }, '5x40'),
    // the proxy process: its own process metrics and up must not become a component
    S('process_cpu_seconds_total', { component: 'proxy' }, '0+1x40'),
    S('process_resident_memory_bytes', { component: 'proxy' }, '5x40'),
    S('up', { component: 'proxy' }, '1x40'),
    S('lab_proxy_up', { component: 'proxy', resource: 'redis' }, '0x40'),
    S('lab_proxy_up', { component: 'proxy', resource: 'postgres' }, '1x40'),
    // dependencies: redis called by rate (3 ok + 1 error /s) and profile (4 ok /s); search -> geo must not count
    S('lab_dependency_requests_total', { component: 'rate', dep: 'redis', outcome: 'ok' }, '0+3x40'),
    S('lab_dependency_requests_total', { component: 'rate', dep: 'redis', outcome: 'error' }, '0+1x40'),
    S('lab_dependency_requests_total', { component: 'profile', dep: 'redis', outcome: 'ok' }, '0+4x40'),
    S('lab_dependency_requests_total', { component: 'search', dep: 'geo', outcome: 'ok' }, '0+4x40'),
    S('lab_dependency_duration_seconds_bucket', { component: 'rate', dep: 'redis', le: '0.01' }, '0+8x40'),
    S('lab_dependency_duration_seconds_bucket', { component: 'rate', dep: 'redis', le: '+Inf' }, '0+8x40'),
  ];
  const at = '30s';
  const exp = (name: string, rows: Array<[string, number]>) => ({
    expr: name,
    eval_time: at,
    exp_samples: rows.map(([component, value]) => ({ labels: `${name}{component="${component}",signal="${name.slice(4)}"}`, value })),
  });
  const tests = {
    rule_files: ['rules.yml'],
    evaluation_interval: '1s',
    tests: [
      {
        interval: '1s',
        input_series: input,
        promql_expr_test: [
          exp('lab:traffic', [['geo', 20], ['user', 0], ['redis', 8]]),
          exp('lab:errors', [['geo', 0.5], ['user', 0], ['redis', 0.125]]),
          exp('lab:cpu', [['geo', 0.5]]),
          exp('lab:memory', [['geo', 1e8]]),
          exp('lab:up', [['geo', 1], ['redis', 0], ['postgres', 1]]),
          // p95 of geo: 19th of 20 per second, interpolated in (0.1, 0.5] -> 0.46; idle user -> 0
          {
            expr: '(lab:latency > bool 0.45) * (lab:latency < bool 0.47)',
            eval_time: at,
            exp_samples: [
              { labels: '{component="geo",signal="latency"}', value: 1 },
              { labels: '{component="user",signal="latency"}', value: 0 },
              { labels: '{component="redis",signal="latency"}', value: 0 },
            ],
          },
          { expr: 'lab:latency{component="user"}', eval_time: at, exp_samples: [{ labels: 'lab:latency{component="user",signal="latency"}', value: 0 }] },
          { expr: 'lab:latency{component="redis"} <= 0.01 > 0', eval_time: at, exp_samples: [{ labels: 'lab:latency{component="redis",signal="latency"}', value: 0.0095 }] },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'tests.yml'), JSON.stringify(tests));
  assert.match(promtool(['test', 'rules', 'tests.yml'], dir), /SUCCESS/);
});
