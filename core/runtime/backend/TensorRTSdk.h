#pragma once
// The one place the TensorRT SDK header enters the build: every file of the backend target includes
// this header instead of the SDK's own, so the SDK dependency has a single, obvious entry point.
// TensorRT-RTX defines TRT_MAJOR_RTX in its version header; standard TensorRT does not.
#include <NvInfer.h>

// TensorRT-RTX declares part of its API (IExecutionContext::isStreamCapturable among it) only
// inside `#if ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION`; the rtx build configs define it (Bazel:
// //toolchains:backend_defines.bzl, setup.py: cpp_defines). This is the header's own test, plus
// TRT_MAJOR_RTX (standard TensorRT has no such declarations whatever is defined) and `defined()`
// so that an undefined macro is not evaluated (-Wundef stays quiet). Calls into that part of the
// API are compiled under `#if TORCHTRT_RTX_RUNTIME_ALLOCATION_API` and have a fallback otherwise.
#if defined(TRT_MAJOR_RTX) && defined(ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION) && ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION
#define TORCHTRT_RTX_RUNTIME_ALLOCATION_API 1
#else
#define TORCHTRT_RTX_RUNTIME_ALLOCATION_API 0
#endif
