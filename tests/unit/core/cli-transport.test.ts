import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTransport, commandHelp, parseCommandArgs } from '../../../pipelines/core/cli.ts';
import type { CliCommand } from '../../../pipelines/core/cli-types.ts';
import { UsageError } from '../../../pipelines/core/errors.ts';

const server: CliCommand = { name: 'serve-x', summary: 'x', options: [{ name: 'null-sink', type: 'boolean', description: 'no transport' }], requiresBroker: (a) => a.options['null-sink'] !== true, run: async () => 0 };
const plain: CliCommand = { name: 'plain', summary: 'x', options: [], run: async () => 0 };
const args = (c: CliCommand, argv: string[]) => parseCommandArgs(c, argv);

test('a server command without brokers refuses to start (usage error), with the way out in the message', () => {
  assert.throws(() => checkTransport(server, args(server, []), {}), (e: unknown) => e instanceof UsageError && /no Kafka brokers configured/.test(e.message) && /--transport embedded/.test(e.message) && /PANOPTES_BROKERS/.test(e.message));
});

test('brokers, --transport embedded, PANOPTES_TRANSPORT or a config file choosing the transport let it start', () => {
  checkTransport(server, args(server, []), { PANOPTES_BROKERS: '127.0.0.1:9092' });
  const env: NodeJS.ProcessEnv = {};
  checkTransport(server, args(server, ['--transport', 'embedded']), env);
  assert.equal(env.PANOPTES_TRANSPORT, 'embedded', 'the flag reaches the config the command loads');
  checkTransport(server, args(server, []), { PANOPTES_TRANSPORT: 'embedded' });
  const dir = mkdtempSync(join(tmpdir(), 'cli-transport-'));
  writeFileSync(join(dir, 'c.yaml'), 'transport: embedded\n');
  checkTransport(server, args(server, []), { PANOPTES_CONFIG: join(dir, 'c.yaml') });
  writeFileSync(join(dir, 'b.yaml'), 'brokers: [127.0.0.1:9092]\n');
  checkTransport(server, args(server, []), { PANOPTES_CONFIG: join(dir, 'b.yaml') });
  writeFileSync(join(dir, 'n.yaml'), 'logLevel: warn\n');
  assert.throws(() => checkTransport(server, args(server, []), { PANOPTES_CONFIG: join(dir, 'n.yaml') }), UsageError);
});

test('only commands that require a broker get --transport and the check; a per-invocation opt-out works', () => {
  checkTransport(server, args(server, ['--null-sink']), {});
  checkTransport(plain, args(plain, []), {});
  assert.throws(() => args(plain, ['--transport', 'embedded']), UsageError);
  assert.match(commandHelp(server), /--transport embedded\|kafka/);
  assert.doesNotMatch(commandHelp(plain), /--transport/);
  assert.throws(() => checkTransport(server, args(server, ['--transport', 'carrier-pigeon']), {}), (e: unknown) => e instanceof UsageError && /embedded or kafka/.test(e.message));
});

test('a boolean option that defaults to true is turned off with --no-NAME; both at once is a usage error', () => {
  const c: CliCommand = { name: 'rank', summary: 'x', options: [{ name: 'count-failures', type: 'boolean', default: true, description: 'x' }, { name: 'verbose', type: 'boolean', description: 'x' }], run: async () => 0 };
  assert.equal(args(c, []).options['count-failures'], true);
  assert.equal(args(c, ['--count-failures']).options['count-failures'], true);
  assert.equal(args(c, ['--no-count-failures']).options['count-failures'], false);
  assert.throws(() => args(c, ['--count-failures', '--no-count-failures']), (e: unknown) => e instanceof UsageError && /contradict/.test(e.message));
  assert.throws(() => args(c, ['--no-verbose']), (e: unknown) => e instanceof UsageError && /--verbose/.test(e.message), 'only options that default to true get a --no- form');
  assert.match(commandHelp(c), /--\[no-\]count-failures/);
  assert.doesNotMatch(commandHelp(c), /--\[no-\]verbose/);
});
