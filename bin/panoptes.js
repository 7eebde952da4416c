#!/usr/bin/env node
// The `panoptes` CLI entry: TypeScript sources run through tsx's loader (no build step), so a
// fresh `npm ci` is all the set-up the commands need.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipelines/core/cli.ts');
const code = await main(process.argv.slice(2));
// Let stdout drain before exiting: piped --json output must not be cut short.
process.exitCode = code;
// A client library that left a handle open must not keep a finished command alive.
setTimeout(() => process.exit(code), 3000).unref();
