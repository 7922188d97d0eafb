// One engine of a DispatcherBackend: its IO description and the implementation's handle for it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class DispatcherBackend;

class DispatcherEngine : public BackendEngine {
 public:
  DispatcherEngine(std::shared_ptr<DispatcherBackend> backend, int64_t handle, std::vector<IOTensorInfo> io);

  const std::vector<IOTensorInfo>& io_tensors() const override {
    return io_;
  }
  std::unique_ptr<BackendExecutionContext> create_execution_context(const ContextOptions& options) override;

 private:
  std::shared_ptr<DispatcherBackend> backend_;
  int64_t handle_;
  std::vector<IOTensorInfo> io_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
