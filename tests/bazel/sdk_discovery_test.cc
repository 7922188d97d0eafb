// Which SDK local_tensorrt found for the selected config, checked against the SDK's own headers.
//
//   bazel test //tests/bazel:sdk_discovery_test [--config=<cfg>]
//       [--test_arg=--expect-version=V] [--test_arg=--expect-origin=O] [--test_arg=--expect-platform=P]
//
// Always: the version the repository rule read from NvInferVersion.h (TORCHTRT_TRT_SDK_VERSION, parsed
// in Starlark by the rules of third_party/tensorrt/sdk_locations.json) equals the one the compiler
// sees in the same header, and the config's defines fit the SDK (jetpack: no TRT_HAS_IRUNTIME_CONFIG,
// the legacy createExecutionContext path). The --expect-* arguments pin what scripts/bazel_test.sh
// laid out: a stand-in JetPack SDK in the multiarch layout under TENSORRT_SYSROOT.
// Links the SDK's library but calls nothing in it (the stand-in's library is empty). SKIPPED without
// an SDK, like everything that depends on //third_party/tensorrt.
#include <NvInferVersion.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) {
    ++failures;
  }
}

// The version as the compiler sees it, in the macro set sdk_locations.json reads for this SDK.
std::string header_version() {
#if defined(TRT_MAJOR_RTX)
  return std::to_string(TRT_MAJOR_RTX) + "." + std::to_string(TRT_MINOR_RTX) + "." + std::to_string(TRT_PATCH_RTX) +
         "." + std::to_string(TRT_BUILD_RTX);
#else
  return std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." +
         std::to_string(NV_TENSORRT_PATCH) + "." + std::to_string(NV_TENSORRT_BUILD);
#endif
}

const char* arg_value(const char* arg, const char* name) {
  const size_t n = std::strlen(name);
  return std::strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::string expect_version, expect_origin, expect_platform;
  for (int i = 1; i < argc; ++i) {
    if (const char* v = arg_value(argv[i], "--expect-version")) {
      expect_version = v;
    } else if (const char* o = arg_value(argv[i], "--expect-origin")) {
      expect_origin = o;
    } else if (const char* p = arg_value(argv[i], "--expect-platform")) {
      expect_platform = p;
    } else {
      std::fprintf(stderr, "usage: %s [--expect-version=V] [--expect-origin=O] [--expect-platform=P]\n", argv[0]);
      return 2;
    }
  }
#ifdef TRT_HAS_IRUNTIME_CONFIG
  const bool has_iruntime_config = true;
#else
  const bool has_iruntime_config = false;
#endif
  const std::string platform = TORCHTRT_PLATFORM;
  std::printf("SDK @%s %s from %s, config %s, TRT_HAS_IRUNTIME_CONFIG %s\n", TORCHTRT_TRT_SDK,
              TORCHTRT_TRT_SDK_VERSION, TORCHTRT_TRT_SDK_ORIGIN, platform.c_str(),
              has_iruntime_config ? "defined" : "not defined");

  check(TORCHTRT_TRT_SDK_FOUND == 1, "the repository rule found the SDK");
  check(std::string(TORCHTRT_TRT_SDK_VERSION) == header_version(),
        std::string("version read by the rule (") + TORCHTRT_TRT_SDK_VERSION + ") is the header's (" +
            header_version() + ")");
  check(has_iruntime_config == (platform != "jetpack"),
        "TRT_HAS_IRUNTIME_CONFIG is defined on every config but jetpack");
  if (!expect_version.empty()) {
    check(expect_version == TORCHTRT_TRT_SDK_VERSION, "version is " + expect_version);
  }
  if (!expect_origin.empty()) {
    check(expect_origin == TORCHTRT_TRT_SDK_ORIGIN, "found through " + expect_origin);
  }
  if (!expect_platform.empty()) {
    check(expect_platform == platform, "config is " + expect_platform);
  }
  std::printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
