// Compiles against the TensorRT / TensorRT-RTX SDK the config selected (//third_party/tensorrt) and
// calls into its library. SKIPPED when that SDK is not installed (see tools/bazel/local_repos.bzl).
#include <NvInfer.h>

#include <cstdio>

int main() {
  const int version = getInferLibVersion();
  std::printf("%s library version %d (TORCHTRT_PLATFORM=%s)\n", TORCHTRT_TRT_SDK, version, TORCHTRT_PLATFORM);
  return version > 0 ? 0 : 1;
}
