#include "core/runtime/backend/CudaGraphCapture.h"

#include <stdexcept>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(status));
  }
}

} // namespace

CudaGraphCapture::~CudaGraphCapture() {
  if (exec_ != nullptr) {
    cudaGraphExecDestroy(exec_);
  }
  if (graph_ != nullptr) {
    cudaGraphDestroy(graph_);
  }
}

void CudaGraphCapture::begin(void* stream) {
  // Thread-local mode: other threads may keep using CUDA (e.g. the caching allocator) meanwhile.
  check(
      cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeThreadLocal),
      "cudaStreamBeginCapture");
}

void CudaGraphCapture::end(void* stream) {
  check(cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &graph_), "cudaStreamEndCapture");
  check(cudaGraphInstantiate(&exec_, graph_, 0), "cudaGraphInstantiate");
}

void CudaGraphCapture::replay(void* stream) {
  if (exec_ == nullptr) {
    throw std::runtime_error("replay of a CUDA graph that was not captured");
  }
  check(cudaGraphLaunch(exec_, static_cast<cudaStream_t>(stream)), "cudaGraphLaunch");
}

bool CudaGraphCapture::is_capturing(void* stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(static_cast<cudaStream_t>(stream), &status), "cudaStreamIsCapturing");
  // An invalidated capture is still in progress until its owner ends it (the engine must not start
  // its own capture or run as if uncaptured); PyTorch (torch.cuda.is_current_stream_capturing, the
  // Python runtime's check) and Torch-TensorRT also count anything but "none" as capturing.
  return status != cudaStreamCaptureStatusNone;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
