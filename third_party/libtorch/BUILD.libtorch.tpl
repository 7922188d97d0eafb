# Generated from //third_party/libtorch:BUILD.libtorch.tpl by local_libtorch (tools/bazel/local_repos.bzl):
# the C++ side of the torch wheel installed in the project's Python (torch %{version}, found=%{found}).
# include/ and lib/ are symlinks into that wheel. Without torch every target here is incompatible, so
# whatever depends on it is SKIPPED.

package(default_visibility = ["//visibility:public"])

_COMPAT = %{target_compatible_with}

_HDRS = glob(
    [
        "include/**/*.h",
        "include/**/*.hpp",
        "include/**/*.cuh",
    ],
    allow_empty = True,
)

_INCLUDES = [
    "include",
    "include/torch/csrc/api/include",
]

# Linux: the shared libraries are linked from the wheel's own directory (not copied into Bazel's
# _solib), so their RUNPATH ($ORIGIN/../../nvidia/...) keeps resolving the CUDA libraries torch needs.
# Windows: the import libraries (lib/*.lib) go through srcs.
_LINUX_LINK = [
    "-L%{lib_dir}",
    "-Wl,-rpath,%{lib_dir}",
    "-Wl,--no-as-needed",
]

# Headers only: for code that uses torch types but links into torch (e.g. a Python extension).
cc_library(
    name = "headers",
    hdrs = _HDRS,
    defines = ["_GLIBCXX_USE_CXX11_ABI=%{cxx11_abi}"],
    includes = _INCLUDES,
    target_compatible_with = _COMPAT,
)

# libtorch (CPU): c10, torch_cpu, torch.
cc_library(
    name = "libtorch",
    srcs = select({
        "@platforms//os:windows": ["lib/c10.lib", "lib/torch_cpu.lib", "lib/torch.lib"],
        "//conditions:default": [],
    }),
    linkopts = select({
        "@platforms//os:windows": [],
        "//conditions:default": _LINUX_LINK + ["-lc10", "-ltorch_cpu", "-ltorch", "-Wl,--as-needed"],
    }),
    target_compatible_with = _COMPAT,
    deps = [":headers"],
)

# libtorch with its CUDA libraries (c10_cuda, torch_cuda) and the CUDA headers they include.
cc_library(
    name = "libtorch_cuda",
    srcs = select({
        "@platforms//os:windows": ["lib/c10_cuda.lib", "lib/torch_cuda.lib"],
        "//conditions:default": [],
    }),
    linkopts = select({
        "@platforms//os:windows": [],
        "//conditions:default": _LINUX_LINK + ["-lc10_cuda", "-ltorch_cuda", "-Wl,--as-needed"],
    }),
    target_compatible_with = _COMPAT,
    deps = [
        ":libtorch",
        "@cuda//:cuda_headers",
    ],
)
