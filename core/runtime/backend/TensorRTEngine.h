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
  // tensors the runtime cannot bind (unsupported dtype, host tensors other than shape-tensor inputs).
  TensorRTEngine(std::shared_ptr<nvinfer1::IRuntime> runtime, nvinfer1::ICudaEngine* engine, const std::string& name);
  ~TensorRTEngine() override;

  const std::vector<IOTensorInfo>& io_tensors() const override {
    return io_;
  }
  std::unique_ptr<BackendExecutionContext> create_execution_context(const ContextOptions& options) override;
  int32_t num_optimization_profiles() const override;
  bool profile_shape(const std::string& name, int32_t profile, ProfileShape* out) const override;
  bool profile_values(const std::string& name, int32_t profile, ProfileShape* out) const override;
  int64_t streamable_weights_size() const override;
  int64_t weight_streaming_budget() const override;
  bool set_weight_streaming_budget(int64_t bytes) override;
  int64_t weight_streaming_automatic_budget() const override;

  static bool to_data_type(nvinfer1::DataType t, DataType* out);

 private:
  std::shared_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::vector<IOTensorInfo> io_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
