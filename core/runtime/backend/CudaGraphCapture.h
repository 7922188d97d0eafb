// A CUDA graph captured from a stream with the CUDA runtime API (torch-level subgraph capture of
// one engine; see CudaGraphPolicy).
#pragma once

#include <cuda_runtime_api.h>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class CudaGraphCapture : public GraphCapture {
 public:
  CudaGraphCapture() = default;
  CudaGraphCapture(const CudaGraphCapture&) = delete;
  CudaGraphCapture& operator=(const CudaGraphCapture&) = delete;
  ~CudaGraphCapture() override;

  void begin(void* stream) override;
  void end(void* stream) override;
  void replay(void* stream) override;

  // Whether `stream` is being captured (by anyone).
  static bool is_capturing(void* stream);

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
