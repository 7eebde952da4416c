// Resolve hook for rwload-deps.mjs: a bare specifier not found from the importing file is resolved
// from this project's root.
const PROJECT = new URL('../../package.json', import.meta.url).href;

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (/^[a-z@]/i.test(specifier) && !specifier.startsWith('node:')) return next(specifier, { ...context, parentURL: PROJECT });
    throw err;
  }
}
