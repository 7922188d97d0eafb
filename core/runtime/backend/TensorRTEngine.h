// BackendEngine over a deserialized nvinfer1::ICudaEngine.
#pragma once

#include "core/runtime/backend/TensorRTSdk.h"

#include <memory>
#include <string>
#include <vector>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class TensorRTEngine : public BackendEngine {
 public:
  // Takes ownership of `engine`; `runtime` must outlive it.  Throws std::runtime_error for IO
  // tensors the runtime cannot bind (unsupported dtype, host tensors).
  TensorRTEngine(std::shared_ptr<nvinfer1::IRuntime> runtime, nvinfer1::ICudaEngine* engine, const std::string& name);
  ~TensorRTEngine() override;

  const std::vector<IOTensorInfo>& io_tensors() const override {
    return io_;
  }
  std::unique_ptr<BackendExecutionContext> create_execution_context(const ContextOptions& options) override;

  static bool to_data_type(nvinfer1::DataType t, DataType* out);

 private:
  std::shared_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::vector<IOTensorInfo> io_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
