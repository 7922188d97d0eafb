#include "core/runtime/backend/TensorRTEngine.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/runtime/backend/TensorRTExecutionContext.h"
#include "core/runtime/backend/TensorRTRuntimeConfig.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

bool TensorRTEngine::to_data_type(nvinfer1::DataType t, DataType* out) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT:
      *out = DataType::kFLOAT32;
      return true;
    case nvinfer1::DataType::kHALF:
      *out = DataType::kFLOAT16;
      return true;
    case nvinfer1::DataType::kBF16:
      *out = DataType::kBFLOAT16;
      return true;
    case nvinfer1::DataType::kINT8:
      *out = DataType::kINT8;
      return true;
    case nvinfer1::DataType::kUINT8:
      *out = DataType::kUINT8;
      return true;
    case nvinfer1::DataType::kINT32:
      *out = DataType::kINT32;
      return true;
    case nvinfer1::DataType::kINT64:
      *out = DataType::kINT64;
      return true;
    case nvinfer1::DataType::kBOOL:
      *out = DataType::kBOOL;
      return true;
    default:
      return false;
  }
}

namespace {

// The input whose memory output `tensor` is (a KV-cache update layer's cache), empty for none. The query
// exists from TensorRT-RTX 1.3 and TensorRT 10.16 (the releases with that layer); older ones alias nothing.
std::string aliased_input_of(const nvinfer1::ICudaEngine& engine, const char* tensor) {
#if (defined(TRT_MAJOR_RTX) && (TRT_MAJOR_RTX > 1 || TRT_MINOR_RTX >= 3)) || \
    (!defined(TRT_MAJOR_RTX) && (NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 16)))
  const char* source = engine.getAliasedInputTensor(tensor);
  return source == nullptr ? std::string() : std::string(source);
#else
  (void)engine, (void)tensor;
  return std::string();
#endif
}

} // namespace

TensorRTEngine::TensorRTEngine(
    std::shared_ptr<nvinfer1::IRuntime> runtime,
    nvinfer1::ICudaEngine* engine,
    const std::string& name)
    : runtime_(std::move(runtime)), engine_(engine) {
  for (int32_t i = 0; i < engine_->getNbIOTensors(); ++i) {
    const char* tensor = engine_->getIOTensorName(i);
    IOTensorInfo info;
    info.name = tensor;
    info.is_input = engine_->getTensorIOMode(tensor) == nvinfer1::TensorIOMode::kINPUT;
    if (!to_data_type(engine_->getTensorDataType(tensor), &info.dtype)) {
      throw std::runtime_error(
          "engine '" + name + "': tensor '" + info.name + "' has a data type the runtime cannot bind");
    }
    if (engine_->getTensorLocation(tensor) != nvinfer1::TensorLocation::kDEVICE) {
      // Host memory is supported for shape-tensor inputs only (Input(is_shape_tensor=True)):
      // TensorRT reads their values while it plans the launch; execute_engine binds a host copy.
      if (!info.is_input || !engine_->isShapeInferenceIO(tensor)) {
        throw std::runtime_error(
            "engine '" + name + "': tensor '" + info.name +
            "' is a host tensor that is not a shape-tensor input (not supported)");
      }
      info.host_input = true;
    }
    nvinfer1::Dims dims = engine_->getTensorShape(tensor);
    info.shape.assign(dims.d, dims.d + std::max<int32_t>(dims.nbDims, 0));
    if (!info.is_input) {
      info.aliased_input = aliased_input_of(*engine_, tensor);
    }
    io_.push_back(std::move(info));
  }
}

TensorRTEngine::~TensorRTEngine() = default;

std::unique_ptr<BackendExecutionContext> TensorRTEngine::create_execution_context(const ContextOptions& options) {
  // A context can be created while the caller's stream is being captured: the CUDA graph strategy
  // is applied at context creation, so the first call inside an outer capture recreates the context
  // with native capture off. Creating it allocates device memory, which CUDA refuses during a
  // capture unless this thread is in relaxed capture mode (nothing of it is captured); torch's
  // caching allocator allocates under a capture the same way.
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  cudaThreadExchangeStreamCaptureMode(&mode);
  try {
    auto context =
        std::make_unique<TensorRTExecutionContext>(TensorRTRuntimeConfig::create_execution_context(*engine_, options));
    cudaThreadExchangeStreamCaptureMode(&mode);
    return context;
  } catch (...) {
    cudaThreadExchangeStreamCaptureMode(&mode);
    throw;
  }
}

int32_t TensorRTEngine::num_optimization_profiles() const {
  return std::max<int32_t>(engine_->getNbOptimizationProfiles(), 1);
}

bool TensorRTEngine::profile_shape(const std::string& name, int32_t profile, ProfileShape* out) const {
  if (profile < 0 || profile >= num_optimization_profiles()) {
    return false;
  }
  auto read = [&](nvinfer1::OptProfileSelector which, std::vector<int64_t>* dims) {
    nvinfer1::Dims d = engine_->getProfileShape(name.c_str(), profile, which);
    if (d.nbDims < 0) {
      return false;
    }
    dims->assign(d.d, d.d + d.nbDims);
    return true;
  };
  return read(nvinfer1::OptProfileSelector::kMIN, &out->min) && read(nvinfer1::OptProfileSelector::kOPT, &out->opt) &&
      read(nvinfer1::OptProfileSelector::kMAX, &out->max);
}

bool TensorRTEngine::profile_values(const std::string& name, int32_t profile, ProfileShape* out) const {
  if (profile < 0 || profile >= num_optimization_profiles() || !engine_->isShapeInferenceIO(name.c_str())) {
    return false;
  }
  const nvinfer1::Dims shape = engine_->getTensorShape(name.c_str());
  int64_t count = 1; // a shape tensor is 0-D or 1-D, of static size
  for (int32_t d = 0; d < shape.nbDims; ++d) {
    if (shape.d[d] < 0) {
      return false;
    }
    count *= shape.d[d];
  }
  auto read = [&](nvinfer1::OptProfileSelector which, std::vector<int64_t>* values) {
#if defined(TRT_MAJOR_RTX) || NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 11)
    const int64_t* data = engine_->getProfileTensorValuesV2(name.c_str(), profile, which);
#else
    const int32_t* data = engine_->getProfileTensorValues(name.c_str(), profile, which); // before 10.11
#endif
    if (data == nullptr) {
      return false; // set with the other overload's setShapeValues, or not at all
    }
    values->assign(data, data + count);
    return true;
  };
  return read(nvinfer1::OptProfileSelector::kMIN, &out->min) && read(nvinfer1::OptProfileSelector::kOPT, &out->opt) &&
      read(nvinfer1::OptProfileSelector::kMAX, &out->max);
}

int64_t TensorRTEngine::streamable_weights_size() const {
  return engine_->getStreamableWeightsSize();
}

int64_t TensorRTEngine::weight_streaming_budget() const {
  return engine_->getWeightStreamingBudgetV2();
}

bool TensorRTEngine::set_weight_streaming_budget(int64_t bytes) {
  return engine_->setWeightStreamingBudgetV2(bytes);
}

int64_t TensorRTEngine::weight_streaming_automatic_budget() const {
  return engine_->getWeightStreamingAutomaticBudget();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
