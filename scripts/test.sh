#!/usr/bin/env bash
# Runs the whole test suite. Exits non-zero on any failure, and on "no tests collected" (pytest: 5).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check py tests benchmarks examples || exit 1
$PY -m pytest tests/py -q -p no:cacheprovider "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  exit 1
fi
exit "$status"
