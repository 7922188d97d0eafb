#!/usr/bin/env bash
# Runs the whole test suite: lint and format check, the Bazel part (C++ tests, define matrix, Python smoke target),
# then pytest over tests/py (converters, reference executor, runtime, models, packaging, and the
# C++ runtime's unit tests). Exits non-zero on any failure, and on "no tests collected" (pytest: 5).
#   TEST_WORKERS   pytest-xdist workers (default: 2, the machines' core count; 0 = no xdist)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
status=0

$PY -m ruff check py tests benchmarks examples setup.py tools || status=1
$PY -m ruff format --check py tests benchmarks examples setup.py tools || status=1

bash scripts/bazel_test.sh || status=1

workers=${TEST_WORKERS:-2}
xdist=()
if [ "$workers" != "0" ] && $PY -c "import xdist" 2>/dev/null; then
  xdist=(-n "$workers" --dist load)
fi
$PY -m pytest tests/py -q -p no:cacheprovider "${xdist[@]}" --durations=15 "$@"
pytest_status=$?
if [ "$pytest_status" -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  pytest_status=1
fi
[ "$pytest_status" -ne 0 ] && status=$pytest_status
exit "$status"
