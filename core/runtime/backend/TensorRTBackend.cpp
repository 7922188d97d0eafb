#include "core/runtime/backend/TensorRTBackend.h"

#include "core/runtime/backend/TensorRTSdk.h"
#include <cuda_runtime_api.h>

#include <mutex>
#include <stdexcept>

#include "core/runtime/backend/CudaGraphCapture.h"
#include "core/runtime/backend/TensorRTEngine.h"
#include "core/runtime/backend/TensorRTLogger.h"
#include "core/runtime/backend/TensorRTRuntimeConfig.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

class TensorRTBackend : public EngineBackend {
 public:
  std::string name() const override {
#if defined(TRT_MAJOR_RTX)
    return "tensorrt_rtx";
#else
    return "tensorrt";
#endif
  }

  DeviceKind device_kind() const override {
    return DeviceKind::kCUDA;
  }

  BackendFeatures features() const override {
    return TensorRTRuntimeConfig::features();
  }

  std::unique_ptr<BackendEngine> deserialize_engine(const std::string& bytes, const std::string& name) override {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      cudaGetLastError(); // clear the sticky error of a machine without a driver
      throw std::runtime_error(
          "cannot run TensorRT engine '" + name +
          "': no usable CUDA GPU on this machine. Run the program on a machine with a supported GPU.");
    }
    std::shared_ptr<nvinfer1::IRuntime> runtime = shared_runtime();
    nvinfer1::ICudaEngine* engine = runtime->deserializeCudaEngine(bytes.data(), bytes.size());
    if (engine == nullptr) {
      throw std::runtime_error(
          "TensorRT could not deserialize engine '" + name +
          "': the engine bytes are corrupt or were built for another TensorRT version or GPU (see the TensorRT log)");
    }
    return std::make_unique<TensorRTEngine>(runtime, engine, name);
  }

  bool is_stream_capturing(void* stream) override {
    return CudaGraphCapture::is_capturing(stream);
  }

  std::unique_ptr<GraphCapture> create_graph_capture() override {
    return std::make_unique<CudaGraphCapture>();
  }

  void set_log_level(int64_t level) override {
    logger_.set_level(level);
  }

 private:
  std::shared_ptr<nvinfer1::IRuntime> shared_runtime() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!runtime_) {
      runtime_.reset(nvinfer1::createInferRuntime(logger_));
      if (!runtime_) {
        throw std::runtime_error("could not create the TensorRT runtime (is the TensorRT library installed?)");
      }
    }
    return runtime_;
  }

  std::mutex mutex_;
  TensorRTLogger logger_;
  std::shared_ptr<nvinfer1::IRuntime> runtime_;
};

} // namespace

std::shared_ptr<EngineBackend> create_tensorrt_backend() {
  return std::make_shared<TensorRTBackend>();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
