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

# The shared libraries are linked from the wheel's own directory (not copied into Bazel's _solib):
# their RUNPATH ($ORIGIN/../../nvidia/...) then keeps resolving the CUDA libraries torch needs.
_LINK = [
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
    linkopts = _LINK + [
        "-lc10",
        "-ltorch_cpu",
        "-ltorch",
        "-Wl,--as-needed",
    ],
    target_compatible_with = _COMPAT,
    deps = [":headers"],
)

# libtorch with its CUDA libraries (c10_cuda, torch_cuda) and the CUDA headers they include.
cc_library(
    name = "libtorch_cuda",
    linkopts = _LINK + [
        "-lc10_cuda",
        "-ltorch_cuda",
        "-Wl,--as-needed",
    ],
    target_compatible_with = _COMPAT,
    deps = [
        ":libtorch",
        "@cuda//:cuda_headers",
    ],
)
