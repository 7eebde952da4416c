import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retry, backoffDelay, defaultRetryOptions, defaultShouldRetry } from '../../../pipelines/core/retry.ts';
import type { RetryInfo } from '../../../pipelines/core/retry.ts';
import { ConfigError, InputError, RetriesExhaustedError, TimeoutError, isRetriable } from '../../../pipelines/core/errors.ts';

/** An error the default classifier retries (it says so, as kafkajs's errors do). */
const transient = (message: string) => Object.assign(new Error(message), { retriable: true });

/** Records requested delays instead of waiting, so tests assert the schedule without timing. */
function recorder() {
  const sleeps: number[] = [];
  const retries: RetryInfo[] = [];
  return {
    sleeps,
    retries,
    opts: {
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      onRetry: (i: RetryInfo) => retries.push(i),
    },
  };
}

test('resolves on the first success without waiting', async () => {
  const r = recorder();
  const v = await retry({ ...r.opts })(async (_bail, attempt) => `ok@${attempt}`);
  assert.equal(v, 'ok@1');
  assert.deepEqual(r.sleeps, []);
});

test('backs off exponentially up to the cap (no jitter)', async () => {
  const r = recorder();
  let calls = 0;
  const v = await retry({ ...r.opts, retries: 6, initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0 })(async () => {
    calls++;
    if (calls < 7) throw transient('transient');
    return calls;
  });
  assert.equal(v, 7);
  assert.deepEqual(r.sleeps, [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual(r.retries.map((i) => i.attempt), [1, 2, 3, 4, 5, 6]);
});

test('jitter stays within [d(1-j), d(1+j)] and reaches both ends', () => {
  const o = { initialDelayMs: 1000, maxDelayMs: 100_000, factor: 2, jitter: 0.25 };
  assert.equal(backoffDelay(1, { ...o, random: () => 0 }), 750);
  assert.equal(backoffDelay(1, { ...o, random: () => 1 }), 1250);
  assert.equal(backoffDelay(3, { ...o, random: () => 0.5 }), 4000);
  for (let k = 0; k < 200; k++) {
    const d = backoffDelay(2, { ...o, random: Math.random });
    assert.ok(d >= 1500 && d <= 2500, `delay ${d} outside [1500, 2500]`);
  }
});

test('jitter never exceeds the cap', () => {
  const d = backoffDelay(10, { initialDelayMs: 100, maxDelayMs: 500, factor: 2, jitter: 0.5, random: () => 1 });
  assert.equal(d, 500);
});

test('a server hint replaces the backoff delay and is capped', async () => {
  const r = recorder();
  const hints = [1500, 999_999, undefined];
  let calls = 0;
  await retry({ ...r.opts, retries: 5, initialDelayMs: 10, jitter: 0, maxHintDelayMs: 5000, delayHint: () => hints[calls - 1] })(async () => {
    calls++;
    if (calls <= 3) throw transient('429');
    return 'ok';
  });
  assert.deepEqual(r.sleeps, [1500, 5000, 40]);
  assert.deepEqual(r.retries.map((i) => i.hinted), [true, true, false]);
});

test('bail stops at once with the given error, unwrapped', async () => {
  const r = recorder();
  const fatal = new InputError('bad request');
  let calls = 0;
  await assert.rejects(
    retry({ ...r.opts, retries: 5 })(async (bail) => {
      calls++;
      if (calls === 2) bail(fatal);
      throw transient('transient');
    }),
    (err) => err === fatal,
  );
  assert.equal(calls, 2);
  assert.equal(r.sleeps.length, 1);
});

test('programming errors are never retried, even when shouldRetry says yes', async () => {
  for (const E of [TypeError, RangeError, ReferenceError, SyntaxError]) {
    const r = recorder();
    let calls = 0;
    await assert.rejects(
      retry({ ...r.opts, shouldRetry: () => true })(async () => {
        calls++;
        throw new E('bug');
      }),
      E,
    );
    assert.equal(calls, 1, E.name);
  }
});

test('errors shouldRetry rejects are rethrown as they are', async () => {
  let calls = 0;
  const err = new InputError('never retry');
  await assert.rejects(
    retry({ ...recorder().opts })(async () => {
      calls++;
      throw err;
    }),
    (e) => e === err,
  );
  assert.equal(calls, 1);
});

test('exhaustion reports the attempt count and keeps the cause', async () => {
  const r = recorder();
  const last = new TimeoutError('slow');
  let calls = 0;
  await assert.rejects(
    retry({ ...r.opts, retries: 3, name: 'fetch thing' })(async () => {
      calls++;
      throw last;
    }),
    (err) => {
      assert.ok(err instanceof RetriesExhaustedError);
      assert.equal(err.attempts, 4);
      assert.equal(err.cause, last);
      assert.equal(err.code, 'PANOPTES_RETRIES_EXHAUSTED');
      assert.match(err.message, /fetch thing failed: slow \(gave up after 4 attempts\)/);
      return true;
    },
  );
  assert.equal(calls, 4);
  assert.equal(r.sleeps.length, 3);
});

test('retries: 0 makes a single attempt', async () => {
  let calls = 0;
  await assert.rejects(
    retry({ ...recorder().opts, retries: 0 })(async () => {
      calls++;
      throw transient('x');
    }),
    RetriesExhaustedError,
  );
  assert.equal(calls, 1);
});

test('an abort stops the waiting and the attempts', async () => {
  const ac = new AbortController();
  let calls = 0;
  const reason = new Error('stopped');
  await assert.rejects(
    retry({ retries: 10, initialDelayMs: 60_000, maxDelayMs: 60_000, signal: ac.signal })(async () => {
      calls++;
      setImmediate(() => ac.abort(reason));
      throw transient('transient');
    }),
    (e) => e === reason,
  );
  assert.equal(calls, 1);
});

test('default classification is the one classifier: own errors by their flag, socket failures retried, unknown errors not', () => {
  const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
  const cases: [unknown, boolean][] = [
    [new TimeoutError('t'), true],
    [new InputError('i'), false],
    [hangUp, true],
    [fetchFailed, true],
    [new TypeError('x is undefined'), false],
    [new RangeError('Invalid time value'), false],
    [new Error('something odd'), false],
    [{ retriable: true, message: 'kafkajs-style' }, true],
    [new InputError('wrapped', { cause: hangUp }), false],
  ];
  for (const [err, want] of cases) {
    // errors.ts isRetriable and retry.ts defaultShouldRetry used to disagree on unknown errors.
    assert.equal(defaultShouldRetry(err), want, String((err as Error).message));
    assert.equal(isRetriable(err), want, String((err as Error).message));
  }
});

test('fetch failing on a refused connection is retried although it is a TypeError', async () => {
  let calls = 0;
  await assert.rejects(
    retry({ retries: 2, initialDelayMs: 1, maxDelayMs: 1 })(async () => {
      calls++;
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
    }),
    /gave up after 3 attempts/,
  );
  assert.equal(calls, 3);
});

test('NODE_ENV=test gets fast defaults, production slower ones', () => {
  const t = defaultRetryOptions({ NODE_ENV: 'test' });
  const p = defaultRetryOptions({ NODE_ENV: 'production' });
  assert.ok(t.initialDelayMs < p.initialDelayMs);
  assert.ok(t.maxDelayMs < p.maxDelayMs);
  assert.equal(p.initialDelayMs, 300);
});

test('invalid options are a ConfigError naming each key', () => {
  assert.throws(
    () => retry({ retries: -1, jitter: 2, factor: 0.5 }),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ['retry.factor', 'retry.jitter', 'retry.retries']);
      return true;
    },
  );
});

test('options passed as undefined keep their defaults', async () => {
  let calls = 0;
  const v = await retry({ sleep: undefined, signal: undefined, retries: 1, initialDelayMs: 1 })(async () => {
    calls++;
    if (calls === 1) throw transient('once');
    return 'ok';
  });
  assert.equal(v, 'ok');
});

test('property: delays stay within jitter bounds of the capped schedule; attempts never exceed retries + 1', async () => {
  const fc = await import('fast-check');
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 0, max: 5000 }),
      fc.double({ min: 1, max: 4, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: 12 }),
      async (retries, initialDelayMs, maxDelayMs, factor, jitter, failures) => {
        const sleeps: number[] = [];
        let calls = 0;
        const run = retry({ retries, initialDelayMs, maxDelayMs, factor, jitter, sleep: async (ms) => void sleeps.push(ms) })(async () => {
          calls++;
          if (calls <= failures) throw transient('transient');
          return calls;
        });
        const outcome = await run.then(
          () => 'ok',
          (e: unknown) => (e instanceof RetriesExhaustedError ? 'exhausted' : 'other'),
        );
        assert.equal(outcome, failures <= retries ? 'ok' : 'exhausted');
        assert.equal(calls, Math.min(failures, retries) + 1);
        sleeps.forEach((d, i) => {
          const base = Math.min(maxDelayMs, initialDelayMs * factor ** i);
          assert.ok(d >= Math.floor(base * (1 - jitter)) && d <= Math.min(maxDelayMs, Math.ceil(base * (1 + jitter))), `delay ${d} for base ${base}`);
        });
      },
    ),
    { numRuns: 300 },
  );
});
