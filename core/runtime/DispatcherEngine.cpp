#include "core/runtime/DispatcherEngine.h"

#include <ATen/ops/empty.h>

#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/runtime/DispatcherBackend.h"
#include "core/runtime/DispatcherExecutionContext.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

DispatcherEngine::DispatcherEngine(std::shared_ptr<DispatcherBackend> backend, int64_t handle, std::vector<IOTensorInfo> io)
    : backend_(std::move(backend)), handle_(handle), io_(std::move(io)) {}

std::unique_ptr<BackendExecutionContext> DispatcherEngine::create_execution_context(const ContextOptions& options) {
  at::Tensor cache = at::empty({static_cast<int64_t>(options.runtime_cache.size())}, at::kByte);
  if (!options.runtime_cache.empty()) {
    std::memcpy(cache.data_ptr(), options.runtime_cache.data(), options.runtime_cache.size());
  }
  std::vector<c10::IValue> out = backend_->call(
      "_dispatcher_create_context",
      {handle_,
       static_cast<int64_t>(options.allocation),
       static_cast<int64_t>(options.kernel_strategy),
       static_cast<int64_t>(options.cuda_graph_strategy),
       options.use_runtime_cache,
       cache});
  if (out.at(0).toInt() < 0) {
    // The contract of create_execution_context: a refused runtime cache is std::invalid_argument.
    throw std::invalid_argument(out.at(1).toStringRef());
  }
  return std::make_unique<DispatcherExecutionContext>(backend_, out.at(0).toInt(), io_, options);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
