/**
 * The stage boundaries, checked in CI (`npm run check:boundaries`):
 * - no import cycles;
 * - outside a stage, only its front door: `pipelines/<stage>/index.ts` or
 *   `connectors/<name>/index.ts` (`pipelines/core` is the shared library every stage builds on and
 *   is imported by path);
 * - pure files never import a stage's CLI (`cli*.ts`), its Kafka wiring (`consumer*.ts`) or the
 *   runtime (`core/runtime.ts`); only CLI, consumer, server and front-door files may.
 * Tests are not checked: they test a stage's insides on purpose.
 */
const WIRING = '(^|/)(cli|cli-[a-z]+|consumer|consumer-[a-z]+|server|server-[a-z]+|index|runtime|commands|docs|stage)\\.ts$';
const CLI = '(^|/)(cli|cli-[a-z]+)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make load order matter and hide layering mistakes.',
      from: { path: '^(pipelines|connectors)/' },
      to: { circular: true },
    },
    {
      name: 'stage-front-door',
      severity: 'error',
      comment: 'Another stage is reached through its index.ts only.',
      from: { path: '^(pipelines|connectors)/([^/]+)/' },
      to: {
        path: '^(pipelines|connectors)/([^/]+)/',
        pathNot: ['^pipelines/core/', '^(pipelines|connectors)/[^/]+/index\\.ts$', '^$1/$2/'],
      },
    },
    {
      name: 'pure-no-cli',
      severity: 'error',
      comment: 'Pure logic never imports a CLI module.',
      from: { path: '^(pipelines|connectors)/', pathNot: WIRING },
      to: { path: CLI, pathNot: 'cli-types\\.ts$' },
    },
    {
      name: 'pure-no-wiring',
      severity: 'error',
      comment: 'Pure logic never imports Kafka wiring (consumer.ts) or the runtime.',
      from: { path: '^(pipelines|connectors)/', pathNot: WIRING },
      to: { path: ['(^|/)(consumer|consumer-[a-z]+)\\.ts$', '^pipelines/core/runtime\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|tests|infra|bin)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
