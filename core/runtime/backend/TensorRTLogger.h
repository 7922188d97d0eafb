// nvinfer1::ILogger forwarding TensorRT's messages to the runtime's log (runtime.h levels).
#pragma once

#include "core/runtime/backend/TensorRTSdk.h"

#include <atomic>
#include <cstdint>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class TensorRTLogger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override;
  // runtime.h LogLevel numbering (0 internal error .. 5 graph).
  void set_level(int64_t level);

 private:
  std::atomic<int64_t> level_{2};
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
