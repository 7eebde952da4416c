// Lets ../shared/tools/rwload run without its own `npm ci`: a bare import it cannot resolve from its
// own folder (snappyjs) is resolved from this project's node_modules instead. Used as
// `node --import ./tests/bench/rwload-deps.mjs rwload.mjs ...` by the remote-write peer benchmark.
import { register } from 'node:module';

register('./rwload-deps-hooks.mjs', import.meta.url);
