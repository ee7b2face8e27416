#!/usr/bin/env bash
# Runs the test suite with Node's test runner (through tsx).
#   scripts/test.sh            everything: typecheck, typedoc (no warnings), unit + conformance, then e2e (real containers, root only)
#   scripts/test.sh unit       typecheck, unit + conformance tests only (no root needed)
#   scripts/test.sh e2e        real-container tests only
#   scripts/test.sh FILE...    just these test files
# TEST_TIMEOUT_MS (default 900000) bounds each test file, so a hung test fails instead of hanging CI.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
# Runs node's test runner; keeps its closing counts for the total printed at the end.
run() {
  node --import tsx --test --test-reporter=spec --test-timeout="${TEST_TIMEOUT_MS:-900000}" "$@" | tee -a "$summary"
  return "${PIPESTATUS[0]}"
}
# One closing line for all groups: "N passed, N failed, N skipped".
total() {
  awk '/^ℹ pass /{p+=$3} /^ℹ fail /{f+=$3} /^ℹ skipped /{s+=$3} END{printf "%d passed, %d failed, %d skipped\n", p, f, s}' "$summary"
}
docs() { npx typedoc --treatWarningsAsErrors --emit none; }
# Runs a group of files; with none, says so (node --test without files would search on its own).
run_group() {
  local name="$1" concurrency="$2"; shift 2
  if [ "$#" -eq 0 ]; then echo "$name: no test files"; return 0; fi
  run --test-concurrency="$concurrency" "$@"
}
files_in() { find "$@" -name '*.test.ts' 2>/dev/null | sort; }
typecheck() { npx tsc -p tsconfig.test.json --noEmit; }
case "$what" in
  unit)
    typecheck
    run_group unit 2 $(files_in test/unit test/conformance) ;;
  e2e)
    run_group e2e 1 $(files_in test/e2e) ;;
  all)
    typecheck
    docs
    run_group unit 2 $(files_in test/unit test/conformance)
    if [ "$(id -u)" = 0 ]; then
      run_group e2e 1 $(files_in test/e2e)
    else
      echo "e2e: skipped (real containers need root)"
    fi
    total ;;
  *)
    run --test-concurrency=1 "$@" ;;
esac
