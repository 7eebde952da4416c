import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { frameFromCsv, framesFromPetshopCsv, parseCsv } from '../../../pipelines/rca/frame.ts';
import { InputError } from '../../../pipelines/core/errors.ts';
import { RcaAnalyzer } from '../../../pipelines/rca/analyzer.ts';
import type { Incident } from '../../../pipelines/core/records.ts';

test('CSV parser: quotes, doubled quotes, CRLF, empty fields', () => {
  assert.deepEqual(parseCsv('a,"b,c","d ""e"""\r\n1,,3\n'), [['a', 'b,c', 'd "e"'], ['1', '', '3']]);
});

test('PetShop layout: one node per component and metric at the chosen statistic, NaN for gaps', () => {
  const text = [
    'microservice,web,web,web,db',
    'metric,latency,latency,requests,latency',
    'statistic,Average,p99,Sum,Average',
    'unix_timestamp,,,,',
    '100.0,0.5,0.9,10,',
    '400.0,0.6,1.0,12,0.1',
  ].join('\n');
  const f = framesFromPetshopCsv(text);
  assert.deepEqual([...f.series.keys()], ['web:latency', 'web:requests', 'db:latency']);
  assert.deepEqual(f.timestamps, [100_000, 400_000]);
  assert.ok(Number.isNaN(f.series.get('db:latency')![0]!));
  assert.throws(() => framesFromPetshopCsv('a,b\nx,y\nz,w\nq,r\n'), (e: unknown) => e instanceof InputError && /must start with "metric" and "statistic"/.test(e.message));
});

test('wide CSV: timestamp then node columns; bad timestamps named by row', () => {
  const f = frameFromCsv('timestamp,web:latency,db:latency\n1,0.5,0.1\n2,0.6,\n');
  assert.deepEqual(f.series.get('web:latency'), [0.5, 0.6]);
  assert.throws(() => frameFromCsv('timestamp,a:m\nx,1\n'), /row 2: timestamp "x" is not a number/);
});

test('RcaAnalyzer counts outcomes on the given registry', async () => {
  const reg = new Registry();
  const an = new RcaAnalyzer(reg, { method: 'traversal' });
  const incident: Incident = { id: 'i', status: 'OPEN', openedAtMs: 0, updatedAtMs: 0, resolvedAtMs: null, severity: 'warning', components: ['web'], anomalyIds: [], anomalyCount: 1, summary: '' };
  const frame = { timestamps: [0], series: new Map([['web:latency', [1]]]) };
  const res = an.analyze(incident, null, { normal: frame, failure: frame });
  assert.deepEqual(res.causes, []);
  const text = await reg.metrics();
  assert.match(text, /panoptes_rca_analyses_total\{outcome="no_graph",method="traversal"\} 1/);
  assert.match(text, /panoptes_rca_analysis_duration_seconds_count\{method="traversal"\} 1/);
});
