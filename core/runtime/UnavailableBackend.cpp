#include "core/runtime/UnavailableBackend.h"

#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

const char* UnavailableBackend::message() {
  return "torch_tensorrt's C++ runtime was built without a TensorRT SDK, so it cannot run TensorRT engines. "
         "Rebuild it with TENSORRT_RTX_HOME (or TENSORRT_HOME) pointing to a TensorRT-RTX (or TensorRT) SDK "
         "with include/ and lib/, or run the program with the Python runtime.";
}

std::unique_ptr<BackendEngine> UnavailableBackend::deserialize_engine(const std::string&, const std::string& name) {
  throw std::runtime_error("cannot run engine '" + name + "': " + message());
}

bool UnavailableBackend::is_stream_capturing(void*) {
  return false;
}

std::unique_ptr<GraphCapture> UnavailableBackend::create_graph_capture() {
  throw std::runtime_error(message());
}

void UnavailableBackend::set_log_level(int64_t) {}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
