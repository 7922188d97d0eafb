# Generated from //third_party/cuda:BUILD.cuda.tpl by local_cuda (tools/bazel/local_repos.bzl).
# CUDA found: %{found}, from %{origin} (%{root}). Without CUDA every target here is incompatible, so
# whatever depends on it is SKIPPED.

package(default_visibility = ["//visibility:public"])

_COMPAT = %{target_compatible_with}

cc_library(
    name = "cuda_headers",
    hdrs = glob(
        [
            "include/**/*.h",
            "include/**/*.hpp",
        ],
        allow_empty = True,
    ),
    includes = ["include"],
    target_compatible_with = _COMPAT,
)

# Linked from its real directory (like libtorch), by the name found there.
cc_library(
    name = "cudart",
    linkopts = %{cudart_linkopts},
    target_compatible_with = _COMPAT,
    deps = [":cuda_headers"],
)
