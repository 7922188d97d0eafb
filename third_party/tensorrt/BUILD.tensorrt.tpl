# Generated from //third_party/tensorrt:BUILD.tensorrt.tpl by local_tensorrt
# (tools/bazel/local_repos.bzl): the %{flavour} C++ SDK. Found: %{found}, %{version} from %{origin}
# (%{lib_dir}/%{library}).
# Without an SDK `:tensorrt` is incompatible, so whatever depends on it is SKIPPED; `:sdk_info` always
# exists (the define-matrix test uses it to check which SDK a config selected).

package(default_visibility = ["//visibility:public"])

# Which SDK this is, whether it was found, its version and where (env:<VAR>, install:<dir>,
# multiarch:<triple>), as defines (no headers, no libraries).
cc_library(
    name = "sdk_info",
    defines = [
        "TORCHTRT_TRT_SDK=\\\"%{flavour}\\\"",
        "TORCHTRT_TRT_SDK_FOUND=%{found_int}",
        "TORCHTRT_TRT_SDK_VERSION=\\\"%{version}\\\"",
        "TORCHTRT_TRT_SDK_ORIGIN=\\\"%{origin}\\\"",
    ],
)

cc_library(
    name = "tensorrt",
    hdrs = glob(["include/*.h"], allow_empty = True),
    includes = ["include"],
    # Linux: linked from the SDK's own directory (linkopts); Windows: the import library.
    srcs = %{win_libs},
    linkopts = %{linkopts},
    target_compatible_with = %{target_compatible_with},
    deps = [":sdk_info"],
)
