"""Bzlmod module extension (MODULE.bazel only; Debian's Bazel 4.2.3 never loads this file).

The same repository rules as the offline WORKSPACE (local_repos.bzl): torch, CUDA and the TensorRT /
TensorRT-RTX SDKs are found on the machine, never downloaded.
"""

load(":local_repos.bzl", "local_cuda", "local_libtorch", "local_python", "local_tensorrt")

def _local_repos_impl(module_ctx):  # buildifier: disable=unused-variable
    local_python(name = "local_python")
    local_libtorch(name = "libtorch")
    local_cuda(name = "cuda")
    local_tensorrt(name = "tensorrt", rtx = False)
    local_tensorrt(name = "tensorrt_rtx", rtx = True)

local_repos = module_extension(implementation = _local_repos_impl)
