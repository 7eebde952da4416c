#!/usr/bin/env bash
# The README's test command. Does its own set-up: starts the real servers the integration tests
# use (through infra/up.sh, which downloads them on first use), then runs every test file with
# Node's test runner. Usage: tests/run.sh [unit|hostile|integration|e2e|FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_ENV=test
sel=${1:-all}
files=()
case "$sel" in
  unit|hostile|integration|e2e) mapfile -t files < <(find "tests/$sel" -name '*.test.ts' | sort) ;;
  all) mapfile -t files < <(find tests/unit tests/integration tests/e2e tests/hostile -name '*.test.ts' 2>/dev/null | sort) ;;
  *) files=("$@") ;;
esac
[ ${#files[@]} -gt 0 ] || { echo "no test files for '$sel'" >&2; exit 1; }
if [ "$sel" != unit ] && printf '%s\n' "${files[@]}" | grep -qv '^tests/unit/'; then
  bash infra/up.sh
fi
# One file at a time: integration tests share one broker and the machine has two cores.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
