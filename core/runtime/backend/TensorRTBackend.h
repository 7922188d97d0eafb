// The TensorRT backend: the EngineBackend that runs engines with TensorRT(-RTX) on CUDA.
//
// This header is the backend target's public face and deliberately does not include the TensorRT SDK header, so
// core/runtime (BackendRegistry) can create the backend without TensorRT headers.  The files of
// this directory are the only ones that include the SDK (via TensorRTSdk.h); build them only with an SDK
// (setup.py: TENSORRT_HOME / TENSORRT_RTX_HOME; Bazel: //core/runtime:tensorrt_backend).
//
// Configuration macros (set by the build):
//   TRT_HAS_IRUNTIME_CONFIG  the TensorRT has IRuntimeConfig (TensorRT-RTX, standard TensorRT >= 10.11;
//                            not JetPack): contexts are created through a runtime config.
//   TRT_MAJOR_RTX            defined by TensorRT-RTX's version header: kernel specialization
//                            strategy, native CUDA graphs, runtime cache, isStreamCapturable.
#pragma once

#include <memory>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

std::shared_ptr<EngineBackend> create_tensorrt_backend();

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
