// CUDA-graph capture on a DispatcherBackend, whose engines run on the CPU: between begin() and end()
// the enqueues of this thread are recorded as steps instead of run, and replay() runs them again on
// the buffers they were recorded with, which is what a captured graph does on a GPU.
#pragma once

#include <functional>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class DispatcherGraphCapture : public GraphCapture {
 public:
  using Step = std::function<bool()>; // false: the engine failed
  // The capture recording on the calling thread, or nullptr.
  static std::vector<Step>* recording();

  void begin(void* stream) override;
  void end(void* stream) override;
  void replay(void* stream) override;

 private:
  std::vector<Step> steps_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
