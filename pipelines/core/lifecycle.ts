/**
 * Graceful shutdown: on SIGINT/SIGTERM, abort the command's signal so it stops taking work, let it
 * finish in-flight batches and commit, then exit. A second signal exits at once.
 */
export function shutdownSignal(onSecond: () => void = () => process.exit(130)): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) ctrl.abort();
    else onSecond();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ctrl.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * Resolves when the signal aborts, keeping the process alive meanwhile: signal handlers do not, so
 * a command with nothing else open (the embedded transport without a metrics port) would otherwise
 * end with Node's "unsettled top-level await" (exit 13) instead of waiting for its signal.
 */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) =>
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    ),
  );
}
