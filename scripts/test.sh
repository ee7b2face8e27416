#!/usr/bin/env bash
# Runs the test suite with Node's test runner (through tsx).
#   scripts/test.sh            everything: typecheck, unit + conformance, then e2e (real containers, root only)
#   scripts/test.sh unit       typecheck, unit + conformance tests only (no root needed)
#   scripts/test.sh e2e        real-container tests only
#   scripts/test.sh FILE...    just these test files
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
run() { node --import tsx --test --test-reporter=spec "$@"; }
unit_files() { find test/unit test/conformance -name '*.test.ts' | sort; }
e2e_files() { find test/e2e -name '*.test.ts' | sort; }
case "$what" in
  unit)
    npx tsc -p tsconfig.test.json --noEmit
    run --test-concurrency=2 $(unit_files) ;;
  e2e)
    run --test-concurrency=1 $(e2e_files) ;;
  all)
    npx tsc -p tsconfig.test.json --noEmit
    run --test-concurrency=2 $(unit_files)
    if [ "$(id -u)" = 0 ]; then
      run --test-concurrency=1 $(e2e_files)
    else
      echo "e2e: skipped (real containers need root)"
    fi ;;
  *)
    run --test-concurrency=1 "$@" ;;
esac
