/**
 * The accuracy guarantee, checked from the outside on a synthetic corpus (fixed fast-check seed):
 * whatever the loop did, the rule FILE it writes, parsed by pipelines/detect and run by the detect
 * stage's SeriesDetector (reference interpreter, not the compiled closures the trainer used),
 * combined with the base labels the Argos way, scores at least the base alone on the validation
 * rows; and a series whose loop rules failed that test contributes none of them to the file (its
 * range rules, vetted on their own, may still be there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { combineLabels } from '../../../../pipelines/detect/engine/aggregate.ts';
import { parseRuleFile } from '../../../../pipelines/detect/rules/rule-file.ts';
import { SeriesDetector } from '../../../../pipelines/detect/engine/series-detector.ts';
import { evaluateLabels } from '../../../../pipelines/train/metrics/index.ts';
import { renderRuleFile } from '../../../../pipelines/train/argos/rule-output.ts';
import { createTrainingRun } from '../../../../pipelines/train/argos/run.ts';
import { trainSeries } from '../../../../pipelines/train/argos/trainer.ts';
import { syntheticSeries } from './synthetic.ts';

test('published rules never score below the base alone on the validation split (every series)', async () => {
  let published = 0;
  let withheld = 0;
  let rangePublished = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        n: fc.integer({ min: 1200, max: 2600 }),
        spikes: fc.integer({ min: 0, max: 14 }),
        falseAlarms: fc.integer({ min: 0, max: 30 }),
        baseRecall: fc.double({ min: 0, max: 1, noNaN: true }),
        height: fc.double({ min: 2, max: 20, noNaN: true }),
        gate: fc.constantFrom('improves' as const, 'at-least' as const, 'proven-vetoes' as const),
        validationFraction: fc.constantFrom(0.2, 0.3),
        fpEvidence: fc.boolean(),
        rangeRules: fc.constantFrom('off' as const, 'above' as const, 'both' as const),
      }),
      async (p) => {
        const s = syntheticSeries(p.seed, p);
        const run = createTrainingRun({ registry: new Registry(), provider: 'offline' });
        const r = await trainSeries(
          { name: s.name, timestamps: s.timestamps, values: s.values, truth: s.truth, base: s.base, trainEnd: s.values.length },
          run,
          { seed: p.seed, iterations: 4, idPrefix: 's:', gate: p.gate, validationFraction: p.validationFraction, fpEvidence: p.fpEvidence, rangeRules: p.rangeRules },
        );
        const text = renderRuleFile([{ rules: r.published, report: r.report }], ['property test']);
        const parsed = parseRuleFile(text, 'trained.yaml');
        assert.deepEqual(parsed.diagnostics, []);
        // Range rules are vetted on their own (no alarm on a normal training row), so they may be
        // published when the loop's rules were not.
        const rangeIds = new Set(r.report.rangeRules.filter((x) => x.published).map((x) => x.id));
        if (p.rangeRules === 'off') assert.equal(r.report.rangeRules.length, 0);
        const loopPublished = r.published.filter((x) => !rangeIds.has(x.spec.id));
        assert.equal(parsed.rules.length, r.published.length);
        const trainedIds = new Set(r.trained.map((x) => x.spec.id));
        assert.ok(r.published.every((x) => trainedIds.has(x.spec.id)), 'published rules are trained rules');
        if (!r.report.validation.passed) {
          assert.equal(loopPublished.length, 0, 'a series whose rules failed validation publishes none of them');
          if (r.trained.length > r.published.length) withheld++;
        } else {
          if (p.gate !== 'proven-vetoes') assert.equal(r.published.length, r.trained.length);
          if (r.published.length < r.trained.length) withheld++;
        }
        if (r.published.length === 0) return;
        published++;
        if (rangeIds.size > 0) rangePublished++;
        const det = new SeriesDetector({ rules: parsed.rules, backend: 'reference' });
        const n = s.values.length;
        const combined = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const d = det.update(s.timestamps[i]!, s.values[i]!);
          combined[i] = combineLabels(s.base[i] === 1, d.fp.length > 0, d.fn.length > 0) ? 1 : 0;
        }
        const from = r.report.split.fitRows;
        const truth = s.truth.subarray(from, n);
        const base = evaluateLabels(s.base.subarray(from, n), truth).event;
        const rules = evaluateLabels(combined.subarray(from, n), truth).event;
        assert.ok((rules.f1 ?? 1) >= (base.f1 ?? 1), `validation event F1 ${rules.f1} < base ${base.f1}`);
        if (!truth.includes(1)) assert.ok(rules.fp <= base.fp, 'no extra false alarms on a validation split without events');
        if (p.gate === 'improves' && loopPublished.length > 0) {
          const gained = (rules.f1 ?? 1) > (base.f1 ?? 1) || (rules.fp < base.fp && rules.tp >= base.tp);
          assert.ok(gained, `the improves gate published rules without a validation gain (F1 ${base.f1} -> ${rules.f1}, FP runs ${base.fp} -> ${rules.fp})`);
        }
      },
    ),
    { seed: 20261128, numRuns: 30 },
  );
  // The property is only interesting if both branches happened on this corpus.
  assert.ok(published > 0, 'some series published rules');
  assert.ok(withheld > 0, 'the guarantee withheld some trained rules');
  assert.ok(rangePublished > 0, 'some series published range rules');
});
