#!/usr/bin/env bash
# The Bazel part of CI:
#   1. bazel test //tests/...        C++ tests (tests/core), the define matrix under the default config,
#                                    and the Python smoke subset (//tests/py:smoke)
#   2. the define matrix             //tests/bazel:define_matrix_test with --config=X for X in
#                                    default, rtx_x86_64, rtx_win, jetpack (rtx_win on Linux: only the
#                                    define/SDK selection is checked)
#   3. SDK discovery, jetpack        a stand-in JetPack SDK (stub headers, empty libnvinfer.so) laid out
#                                    in the multiarch folders under $TENSORRT_SYSROOT
#                                    (tests/py/packaging/_sdk_standin.py): local_tensorrt must find it,
#                                    read its version, and --config=jetpack must select it and link it
#                                    (//tests/bazel:sdk_discovery_test; SKIPPED counts as failed here)
# and prints one plain `N passed, N failed, N skipped` line for all of it. Targets that need something
# this machine lacks (a TensorRT C++ SDK, torch) are SKIPPED by Bazel and counted as skipped.
# Exits non-zero on any failure, including a build failure.
#
# Installs Debian's offline Bazel (bazel-bootstrap 4.2.3 + rules_java + skylib + googletest) when
# missing: CI machines are fresh.
#   PYTHON        the project's Python (default python3): its torch is the one Bazel builds against
#   BAZEL_ARGS    extra flags for every `bazel test` here (e.g. --jobs=1)
#   BAZEL_KEEP_SERVER=1   leave the Bazel server running afterwards (faster reruns while developing)
set -uo pipefail
cd "$(dirname "$0")/.."

log() { echo "[bazel_test] $*"; }

install_bazel() {
  local need=()
  command -v bazel >/dev/null 2>&1 || need+=(bazel-bootstrap)
  [ -d /usr/share/bazel/rules/java ] || need+=(bazel-rules-java)
  [ -d /usr/share/bazel/tools/skylib ] || need+=(bazel-skylib)
  [ -d /usr/src/googletest/googletest ] || need+=(googletest)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]} (Debian packages)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

if ! install_bazel; then
  log "could not install Bazel"
  echo "bazel: 0 passed, 1 failed"
  exit 1
fi

PY=${PYTHON:-python3}
PY_EXE=$("$PY" -c 'import sys; print(sys.executable)') || { log "no Python '$PY'"; exit 1; }

# shellcheck disable=SC2206
EXTRA=(${BAZEL_ARGS:-})
COMMON=(--keep_going --repo_env=PYTHON_BIN_PATH="$PY_EXE" --color=no --curses=no --show_progress_rate_limit=30 "${EXTRA[@]}")

passed=0
failed=0
skipped=0
status=0

# Counts the per-target summary lines of one `bazel test` run (its output in $1, exit code in $2).
count() {
  local out=$1 rc=$2 label=${3:-}
  local p f s
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?(PASSED|FLAKY)' "$out")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FAILED TO BUILD|REMOTE FAILURE)' "$out")
  s=$(grep -cE '^//[^ ]+ +SKIPPED' "$out")
  if [ -n "$label" ]; then
    sed -nE "s|^(//[^ ]+) +(.*)$|  \1 [$label] \2|p" "$out" | grep -E 'PASSED|FAILED|SKIPPED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY'
  else
    grep -E '^//[^ ]+ +' "$out" | sed 's/^/  /'
  fi
  # Bazel exits 0 (all passed), 3 (some test failed), 4 (no test to run); anything else is a build
  # or command failure, which counts as a failure even when no per-target line says so.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
    log "bazel exited $rc${label:+ ($label)}:"
    grep -E '^(ERROR|FAILED):' "$out" | head -20
    f=1
  fi
  if [ "$rc" -eq 4 ] && [ "$p" -eq 0 ] && [ "$s" -eq 0 ]; then
    log "no test targets found${label:+ ($label)}"
    f=$((f + 1))
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && status=1
  [ "$f" -ne 0 ] && status=1
  return 0
}

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
start=$(date +%s)

log "bazel test //tests/..."
bazel test //tests/... "${COMMON[@]}" >"$OUT/all.log" 2>&1
rc=$?
count "$OUT/all.log" "$rc"
if [ "$rc" -ne 0 ]; then
  grep -vE '^(Loading|Analyzing|INFO: From|\[[0-9,]+ / [0-9,]+\])' "$OUT/all.log" | tail -60
fi

for cfg in default rtx_x86_64 rtx_win jetpack; do
  log "define matrix: --config=$cfg"
  bazel test //tests/bazel:define_matrix_test --config="$cfg" --test_arg=--expect="$cfg" \
    "${COMMON[@]}" >"$OUT/matrix_$cfg.log" 2>&1
  rc=$?
  count "$OUT/matrix_$cfg.log" "$rc" "$cfg"
  if [ "$rc" -ne 0 ]; then
    grep -vE '^(Loading|Analyzing|INFO: |Target |\[[0-9,]+ / [0-9,]+\])' "$OUT/matrix_$cfg.log" | tail -30
  fi
done

# Last, since it re-configures @tensorrt for the stand-in (the next plain run re-discovers).
log "SDK discovery: stand-in JetPack SDK, --config=jetpack"
standin_env=()
# The variables come from the SDK description; every one but the sysroot (the last) is cleared, so an
# SDK named by this machine's environment cannot shadow the stand-in.
mapfile -t sdk_vars < <("$PY_EXE" tools/packaging/tensorrt_sdk.py --variables)
if [ ${#sdk_vars[@]} -gt 0 ] && "$PY_EXE" tests/py/packaging/_sdk_standin.py "$OUT/jetpack_sysroot" >"$OUT/standin.log" 2>&1; then
  for v in "${sdk_vars[@]:0:${#sdk_vars[@]}-1}"; do standin_env+=(--repo_env="$v="); done
  standin_env+=(--repo_env="${sdk_vars[-1]}=$OUT/jetpack_sysroot")
  bazel test //tests/bazel:sdk_discovery_test --config=jetpack "${standin_env[@]}" \
    --test_arg=--expect-version=10.3.0.30 --test_arg=--expect-origin=multiarch:aarch64-linux-gnu \
    --test_arg=--expect-platform=jetpack "${COMMON[@]}" >"$OUT/standin_bazel.log" 2>&1
  rc=$?
  if ! grep -qE '^//tests/bazel:sdk_discovery_test +(\(cached\) )?PASSED' "$OUT/standin_bazel.log"; then
    log "the stand-in JetPack SDK was not found, or not as expected:"
    grep -vE '^(Loading|Analyzing|INFO: |Target |\[[0-9,]+ / [0-9,]+\])' "$OUT/standin_bazel.log" | tail -30
    [ "$rc" -eq 0 ] && rc=1
    failed=$((failed + 1))
    status=1
  else
    count "$OUT/standin_bazel.log" "$rc" "jetpack stand-in SDK"
  fi
else
  log "could not lay out the stand-in SDK:"
  tail -20 "$OUT/standin.log"
  failed=$((failed + 1))
  status=1
fi

if [ "${BAZEL_KEEP_SERVER:-0}" != "1" ]; then
  bazel shutdown >/dev/null 2>&1 || true
fi
log "done in $(($(date +%s) - start)) s"
echo "bazel: $passed passed, $failed failed, $skipped skipped"
exit "$status"
