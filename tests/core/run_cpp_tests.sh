#!/usr/bin/env bash
# Builds and runs the C++ runtime tests (googletest) against the installed torch, without Bazel.
#
#   tests/core/run_cpp_tests.sh [gtest args...]     build (incrementally) and run every C++ test
#   tests/core/run_cpp_tests.sh --fake-backend-only build only the fake backend library and print its path
#                                                   (the Python tests load it, see test_cpp_runtime.py)
#
# Environment: PYTHON (default python3), CXX (default g++), JOBS (default nproc),
# TORCHTRT_CPP_TEST_BUILD_DIR (default <repo>/build/cpp_tests), GTEST_SRC (default /usr/src/googletest,
# from Debian's googletest package). Sources come from core/runtime/sources.bzl. The runtime is built
# as without a TensorRT SDK (TRT_NO_SDK); the tests select the fake backend.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=${PYTHON:-python3}
CXX=${CXX:-g++}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD=${TORCHTRT_CPP_TEST_BUILD_DIR:-$REPO/build/cpp_tests}
GTEST_SRC=${GTEST_SRC:-/usr/src/googletest}
mkdir -p "$BUILD/obj"

# --- the fake backend library (no torch: only the EngineBackend interface) ----------------------
FAKE_LIB="$BUILD/libtorchtrt_fake_backend.so"
fake_sources() { "$PY" - "$REPO" <<'PYEOF'
import ast, os, sys
repo = sys.argv[1]
tree = ast.parse(open(os.path.join(repo, "core/runtime/sources.bzl")).read())
lists = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}
print(" ".join(lists["FAKE_BACKEND_SOURCES"]))
PYEOF
}
newest_header() {
  find "$REPO/core/runtime" "$REPO/tests/core" -name '*.h' -newer "$1" -print -quit 2>/dev/null
}
build_fake_backend() {
  local srcs need=0
  srcs=$(fake_sources)
  if [ ! -f "$FAKE_LIB" ] || [ -n "$(newest_header "$FAKE_LIB")" ]; then need=1; fi
  for s in $srcs; do [ "$REPO/$s" -nt "$FAKE_LIB" ] && need=1; done
  if [ "$need" = 1 ]; then
    (cd "$REPO" && "$CXX" -std=c++17 -O1 -fPIC -shared -Wall -Wextra -I"$REPO" $srcs -o "$FAKE_LIB.tmp")
    mv "$FAKE_LIB.tmp" "$FAKE_LIB"
  fi
}

if [ "${1:-}" = "--fake-backend-only" ]; then
  build_fake_backend >&2
  echo "$FAKE_LIB"
  exit 0
fi
build_fake_backend

# --- torch and googletest ---------------------------------------------------------------------------
read -r TORCH_INC TORCH_LIB < <("$PY" -c "
import os, torch
root = os.path.dirname(torch.__file__)
print(os.path.join(root, 'include'), os.path.join(root, 'lib'))")
if [ ! -f "$GTEST_SRC/googletest/src/gtest-all.cc" ]; then
  echo "googletest sources not found in $GTEST_SRC (apt-get install -y googletest, or set GTEST_SRC)" >&2
  exit 2
fi
ABI=$("$PY" -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))")
COMMON="-O1 -g0 -fPIC -DTRT_NO_SDK -DTRT_HAS_IRUNTIME_CONFIG -D_GLIBCXX_USE_CXX11_ABI=$ABI -I$REPO -isystem $GTEST_SRC/googletest/include"
TORCH_FLAGS="-std=c++20 -isystem $TORCH_INC -isystem $TORCH_INC/torch/csrc/api/include"
PLAIN_FLAGS="-std=c++17 -Wall -Wextra"   # the runtime's own torch-free code must stay C++17

# A change of compiler flags or torch invalidates every object.
STAMP="$BUILD/obj/flags.txt"
echo "$CXX $COMMON $TORCH_FLAGS $PLAIN_FLAGS $("$PY" -c 'import torch; print(torch.__version__)')" > "$STAMP.new"
if ! cmp -s "$STAMP.new" "$STAMP"; then rm -f "$BUILD"/obj/*.o; mv "$STAMP.new" "$STAMP"; else rm -f "$STAMP.new"; fi

# "<source> <flags-kind>" for every translation unit.
"$PY" - "$REPO" > "$BUILD/units.txt" <<'PYEOF'
import ast, os, sys
repo = sys.argv[1]
tree = ast.parse(open(os.path.join(repo, "core/runtime/sources.bzl")).read())
lists = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}
torch_units = {"core/runtime/TRTEngine.cpp", "core/runtime/EngineRegistry.cpp", "core/runtime/execute_engine.cpp",
               "core/runtime/register_jit_hooks.cpp", "core/runtime/register_policy_ops.cpp",
               "core/runtime/DispatcherBackend.cpp", "core/runtime/DispatcherEngine.cpp",
               "core/runtime/DispatcherExecutionContext.cpp", "core/runtime/register_dispatcher_ops.cpp",
               "core/runtime/register_cache_ops.cpp", "core/runtime/TRTEngineProfiling.cpp",
               "tests/core/test_execute_engine.cpp", "tests/core/test_backend_selection.cpp",
               "tests/core/test_profiles_and_budgets.cpp",
               "tests/core/test_shape_tensor_inputs.cpp", "tests/core/test_engine_profiling.cpp",
               "core/runtime/AliasedIO.cpp", "tests/core/test_aliased_io.cpp",
               "core/runtime/TorchOutputAllocator.cpp", "core/runtime/EngineStreams.cpp",
               "core/runtime/TRTEngineProfiles.cpp", "core/runtime/EngineInputChecks.cpp"}
for src in lists["RUNTIME_SOURCES"] + lists["FAKE_BACKEND_SOURCES"] + lists["TEST_SOURCES"]:
    print(src, "torch" if src in torch_units else "plain")
PYEOF

compile_unit() {  # <source> <kind>
  local src=$1 kind=$2 obj flags
  obj="$BUILD/obj/$(echo "$src" | tr '/' '_').o"
  if [ -f "$obj" ] && [ ! "$REPO/$src" -nt "$obj" ] && [ -z "$(newest_header "$obj")" ]; then return 0; fi
  if [ "$kind" = torch ]; then flags="$TORCH_FLAGS"; else flags="$PLAIN_FLAGS"; fi
  echo "  compiling $src" >&2
  "$CXX" $COMMON $flags -c "$REPO/$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj"
}
export -f compile_unit newest_header
export REPO BUILD COMMON TORCH_FLAGS PLAIN_FLAGS CXX

GTEST_OBJ="$BUILD/obj/gtest-all.o"
GTEST_MAIN_OBJ="$BUILD/obj/gtest_main.o"
{
  [ -f "$GTEST_OBJ" ] || echo "gtest"
  [ -f "$GTEST_MAIN_OBJ" ] || echo "gtest_main"
  cat "$BUILD/units.txt"
} | xargs -P "$JOBS" -L 1 bash -c '
  if [ "$0" = gtest ]; then
    "$CXX" -std=c++17 -O1 -fPIC -isystem '"$GTEST_SRC"'/googletest/include -I'"$GTEST_SRC"'/googletest \
      -c '"$GTEST_SRC"'/googletest/src/gtest-all.cc -o '"$GTEST_OBJ"'
  elif [ "$0" = gtest_main ]; then
    "$CXX" -std=c++17 -O1 -fPIC -isystem '"$GTEST_SRC"'/googletest/include \
      -c '"$GTEST_SRC"'/googletest/src/gtest_main.cc -o '"$GTEST_MAIN_OBJ"'
  else
    compile_unit "$0" "$1"
  fi'

OBJS=()
while read -r src kind; do OBJS+=("$BUILD/obj/$(echo "$src" | tr '/' '_').o"); done < "$BUILD/units.txt"
BIN="$BUILD/torchtrt_runtime_tests"
"$CXX" -o "$BIN" "${OBJS[@]}" "$GTEST_OBJ" "$GTEST_MAIN_OBJ" \
  -L"$TORCH_LIB" -Wl,-rpath,"$TORCH_LIB" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 -Wl,--as-needed -lpthread -ldl

cd "$BUILD"
exec "$BIN" "$@"
