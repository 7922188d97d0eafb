// The default backend of a build without a TensorRT SDK: engines can be constructed, inspected
// and pickled, but running one raises an error that says why and what to do.
#pragma once

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class UnavailableBackend : public EngineBackend {
 public:
  static const char* message();

  std::string name() const override {
    return "unavailable";
  }
  DeviceKind device_kind() const override {
    return DeviceKind::kCUDA;
  }
  BackendFeatures features() const override {
    return {};
  }
  std::unique_ptr<BackendEngine> deserialize_engine(const std::string& bytes, const std::string& name) override;
  bool is_stream_capturing(void* stream) override;
  std::unique_ptr<GraphCapture> create_graph_capture() override;
  void set_log_level(int64_t level) override;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
