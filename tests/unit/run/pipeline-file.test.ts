/**
 * The pipeline file of `panoptes run --config`: fixtures under tests/fixtures/run (`*.bad.yaml`:
 * every problem reported at once, each with its path) and the shipped example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../../pipelines/core/errors.ts';
import { loadConfig } from '../../../pipelines/core/config.ts';
import { checkStages, loadPipeline, STAGES, STAGE_NAMES } from '../../../pipelines/run/index.ts';
import { ROOT } from '../../helpers/infra.ts';

const fixture = (name: string) => join(ROOT, 'tests', 'fixtures', 'run', name);
/** No PANOPTES_* from the test's environment. */
const ENV = {};

function issuesOf(file: string): { path: string; message: string }[] {
  try {
    loadPipeline(file, ENV);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail(`${file} validated`);
}

test('a valid pipeline file: connection settings and every stage with its defaults filled in, in flow order', () => {
  const p = loadPipeline(fixture('good.yaml'), ENV);
  assert.equal(p.config.topicPrefix, 'staging.');
  assert.deepEqual(p.config.brokers, ['127.0.0.1:9092']);
  assert.equal(p.config.transport, 'kafka');
  assert.deepEqual(p.stages.map((s) => s.name), ['ingest', 'detect', 'incidents', 'rca', 'dashboard']);
  const by = Object.fromEntries(p.stages.map((s) => [s.name, s.options as Record<string, unknown>]));
  assert.equal(by.ingest!.listen, '127.0.0.1:9201');
  assert.equal(by.ingest!.maxSeriesPerRequest, 5000);
  assert.equal(by.ingest!.deadlineMs, 5000, 'a default of the ingest spec');
  assert.deepEqual([by.detect!.base, by.detect!.threshold, by.detect!.window, by.detect!.group], ['robust-z', 6, 60, 'panoptes-detect']);
  // `incidents:` with no value: every default, the stable group id among them.
  assert.equal(by.incidents!.groupId, 'panoptes-incidents');
  assert.equal(by.rca!.method, 'attribution');
  assert.equal(by.rca!.targetThreshold, 3);
  assert.equal(by.rca!.groupId, 'panoptes-rca');
});

test('every problem of the file at once, each with its path: connection settings and stage options', () => {
  const issues = issuesOf(fixture('values.bad.yaml'));
  const paths = issues.map((i) => i.path);
  assert.deepEqual(paths.sort(), [
    'connectTimeoutMs (file ' + fixture('values.bad.yaml') + ')',
    'stages.detect.grup',
    'stages.detect.maxSeries',
    'stages.detect.threshold',
    'stages.incidents.maxHops',
    'stages.ingest.deadlineMs',
    'stages.ingest.listen',
  ].sort());
  const msg = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.equal(msg['stages.detect.threshold'], 'expected a finite number > 0, got "high"');
  assert.match(msg['stages.detect.grup']!, /^unknown key \(did you mean group\?\)/);
  assert.equal(msg['stages.incidents.maxHops'], 'expected an integer from 0 to 10, got 99');
  assert.match(msg['stages.ingest.listen']!, /^expected host:port/);
});

test('unknown stage names, with a did-you-mean when one is close', () => {
  const issues = issuesOf(fixture('unknown-stage.bad.yaml'));
  assert.deepEqual(
    issues.map((i) => [i.path, i.message.replace(/ \(known stages: .*\)$/, '')]),
    [
      ['stages.incident', 'unknown stage (did you mean incidents?)'],
      ['stages.dashbord', 'unknown stage (did you mean dashboard?)'],
      ['stages.frobnicate', 'unknown stage'],
    ],
  );
  assert.ok(issues.every((i) => i.message.endsWith(`(known stages: ${STAGE_NAMES.join(', ')})`)));
});

test('values the specs accept but a pipeline cannot run, and files that cannot be read, by path', () => {
  const issues = issuesOf(fixture('rules.bad.yaml'));
  assert.deepEqual(issues.map((i) => i.path).sort(), ['stages.dashboard.demo', 'stages.detect.window', 'stages.ingest.nullSink', 'stages.ingest.workers', 'stages.rca.graph']);
  const msg = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(msg['stages.rca.graph']!, /no-such-graph\.json/);
  assert.match(msg['stages.detect.window']!, /3/);
});

test('a plain config file given to run is a usage error; stages must be a mapping', () => {
  assert.throws(() => loadPipeline(fixture('plain-config.yaml'), ENV), (err: unknown) => err instanceof UsageError && /has no `stages:` map: it is a plain config file/.test(err.message));
  assert.deepEqual(issuesOf(fixture('stages-list.bad.yaml')).map((i) => i.path), ['stages']);
  assert.deepEqual(checkStages({}).issues.map((i) => [i.path, i.message.replace(/ \(.*/, '')]), [['stages', 'names no stage']]);
});

test('the shipped example validates, and other commands read it as a config file', () => {
  const file = join(ROOT, 'pipelines', 'run', 'pipeline.example.yaml');
  const p = loadPipeline(file, ENV);
  assert.deepEqual(p.stages.map((s) => s.name), ['ingest', 'detect', 'incidents', 'rca', 'alerts', 'dashboard']);
  // `panoptes topics create --config pipeline.example.yaml`: the connection settings, stages left to run.
  assert.deepEqual(loadConfig({ env: ENV, file }).brokers, ['127.0.0.1:9092']);
});

test('misspelt top-level keys get a did-you-mean, `stages` included', () => {
  const issues = issuesOf(fixture('toplevel.bad.yaml'));
  assert.deepEqual(issues, [{ path: 'stage', message: 'unknown key (did you mean stages?)' }]);
  const withStages = issuesOf(fixture('brokerz.bad.yaml'));
  assert.deepEqual(withStages.map((i) => i.path), ['brokerz']);
  assert.match(withStages[0]!.message, /^unknown key \(did you mean brokers\?\)/);
});

test('every stage of the registry reuses its command spec and has a launch', () => {
  for (const name of STAGE_NAMES) {
    assert.equal(STAGES[name].name, name);
    assert.equal(typeof STAGES[name].launch, 'function');
    // Defaults alone validate for every stage but serve, whose models folder is required.
    const r = STAGES[name].spec.check({}, `stages.${name}`);
    if (name === 'serve') assert.deepEqual(r.issues, [{ path: 'stages.serve.models', message: 'is required' }]);
    else assert.deepEqual(r.issues, []);
  }
});
