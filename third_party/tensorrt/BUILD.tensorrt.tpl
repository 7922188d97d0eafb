# Generated from //third_party/tensorrt:BUILD.tensorrt.tpl by local_tensorrt
# (tools/bazel/local_repos.bzl): the %{flavour} C++ SDK. Found: %{found}, from %{origin}.
# Without an SDK `:tensorrt` is incompatible, so whatever depends on it is SKIPPED; `:sdk_info` always
# exists (the define-matrix test uses it to check which SDK a config selected).

package(default_visibility = ["//visibility:public"])

# Which SDK this is and whether it was found, as defines (no headers, no libraries).
cc_library(
    name = "sdk_info",
    defines = [
        "TORCHTRT_TRT_SDK=\\\"%{flavour}\\\"",
        "TORCHTRT_TRT_SDK_FOUND=%{found_int}",
    ],
)

cc_library(
    name = "tensorrt",
    hdrs = glob(["include/*.h"], allow_empty = True),
    includes = ["include"],
    # Linux: link from the SDK's own directory (SONAME/RUNPATH stay valid); Windows: import libs.
    srcs = %{win_libs},
    linkopts = [] if %{win_libs} else [
        "-L%{lib_dir}",
        "-Wl,-rpath,%{lib_dir}",
        "-l%{link_name}",
    ],
    target_compatible_with = %{target_compatible_with},
    deps = [":sdk_info"],
)
