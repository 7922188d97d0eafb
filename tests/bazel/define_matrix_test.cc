// The define matrix: asserts exactly which TensorRT defines and SDK a --config selects.
//
//   bazel test //tests/bazel:define_matrix_test --config=<cfg> --test_arg=--expect=<cfg>
//
// for <cfg> in default, rtx_x86_64, rtx_win, jetpack (scripts/bazel_test.sh runs all four). The
// expectations below are written out by hand, independently of the select()s in
// toolchains/BUILD.bazel and third_party/tensorrt/BUILD.bazel that produce the defines, and this test
// depends on the same targets (//toolchains:trt_defines, //third_party/tensorrt:sdk_info) as the
// runtime's TensorRT backend, and takes the backend's local_defines from the same
// trt_backend_local_defines() (toolchains/backend_defines.bzl). Without --expect it checks the config
// it was compiled under.
//
// rtx_win on a Linux machine: only the define/SDK selection is checked; the compiler is still GCC.
// No torch, no TensorRT headers: it builds on any machine in a second.

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Expected {
  const char* platform;
  bool has_iruntime_config;
  bool rtx;
  bool runtime_allocation_gate; // backend local_define ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION
  const char* sdk;
};

constexpr Expected kMatrix[] = {
    {"default", true, false, false, "tensorrt"},
    {"rtx_x86_64", true, true, true, "tensorrt_rtx"},
    {"rtx_win", true, true, true, "tensorrt_rtx"},
    {"jetpack", false, false, false, "tensorrt"},
};

#ifndef TORCHTRT_PLATFORM
#error "TORCHTRT_PLATFORM is not defined: //toolchains:trt_defines is missing from deps"
#endif
#ifndef TORCHTRT_TRT_SDK
#error "TORCHTRT_TRT_SDK is not defined: //third_party/tensorrt:sdk_info is missing from deps"
#endif

#ifdef TRT_HAS_IRUNTIME_CONFIG
constexpr bool kHasIRuntimeConfig = true;
#else
constexpr bool kHasIRuntimeConfig = false;
#endif

#ifdef TRT_MAJOR_RTX
constexpr bool kRtx = true;
#else
constexpr bool kRtx = false;
#endif

// The TensorRT-RTX header tests the value (`#if ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION`), so a
// define of 0 would not open the gate: count it only when it is non-zero, as the header does.
#if defined(ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION) && ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION
constexpr bool kRuntimeAllocationGate = true;
#else
constexpr bool kRuntimeAllocationGate = false;
#endif

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) {
    ++failures;
  }
}

const char* yes_no(bool b) { return b ? "defined" : "not defined"; }

}  // namespace

int main(int argc, char** argv) {
  std::string expect = TORCHTRT_PLATFORM;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--expect=", 9) == 0) {
      expect = argv[i] + 9;
    } else {
      std::fprintf(stderr, "usage: %s [--expect=default|rtx_x86_64|rtx_win|jetpack]\n", argv[0]);
      return 2;
    }
  }

  const Expected* e = nullptr;
  for (const auto& row : kMatrix) {
    if (expect == row.platform) {
      e = &row;
    }
  }
  if (e == nullptr) {
    std::fprintf(stderr, "unknown config '%s'\n", expect.c_str());
    return 2;
  }

  std::printf("define matrix, expecting --config=%s\n", e->platform);
  std::printf("  compiled with: TORCHTRT_PLATFORM=%s TRT_HAS_IRUNTIME_CONFIG %s, TRT_MAJOR_RTX %s, "
              "ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION %s, SDK %s (found=%d)\n",
              TORCHTRT_PLATFORM, yes_no(kHasIRuntimeConfig), yes_no(kRtx), yes_no(kRuntimeAllocationGate),
              TORCHTRT_TRT_SDK, TORCHTRT_TRT_SDK_FOUND);
  check(std::string(TORCHTRT_PLATFORM) == e->platform,
        std::string("platform is ") + e->platform + " (got " + TORCHTRT_PLATFORM + ")");
  check(kHasIRuntimeConfig == e->has_iruntime_config,
        std::string("TRT_HAS_IRUNTIME_CONFIG ") + yes_no(e->has_iruntime_config));
  check(kRtx == e->rtx, std::string("TRT_MAJOR_RTX ") + yes_no(e->rtx));
  check(kRuntimeAllocationGate == e->runtime_allocation_gate,
        std::string("ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION ") + yes_no(e->runtime_allocation_gate) +
            " (TensorRT backend local_defines)");
  check(std::string(TORCHTRT_TRT_SDK) == e->sdk,
        std::string("SDK is @") + e->sdk + " (got @" + TORCHTRT_TRT_SDK + ")");
#if defined(__linux__)
  if (std::string(e->platform) == "rtx_win") {
    std::printf("  note: rtx_win built on Linux: only the define/SDK selection is checked\n");
  }
#endif
  std::printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
