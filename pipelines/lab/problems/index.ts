export { TASKS, taskPrompt, type Answer, type Problem, type Task } from './problem.ts';
export { PROBLEMS, problemById, WARMUP_WORKLOAD_RPS } from './set.ts';
