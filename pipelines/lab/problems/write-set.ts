/** Writes the shipped problem set: `node --import tsx pipelines/lab/problems/write-set.ts`. */
import { writeFileSync } from 'node:fs';
import { problemsToYaml } from './file.ts';
import { generateProblemSet } from './generate.ts';
import { SHIPPED_PROBLEMS_FILE, SHIPPED_HEADER } from './index.ts';

writeFileSync(SHIPPED_PROBLEMS_FILE, problemsToYaml(generateProblemSet(), SHIPPED_HEADER));
process.stdout.write(`wrote ${SHIPPED_PROBLEMS_FILE}\n`);
