#include "core/runtime/RuntimeDefaults.h"

#include <atomic>
#include <mutex>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::mutex g_mutex;
RuntimeDefaults::Values g_values;
std::atomic<uint64_t> g_generation{0};
std::atomic<KernelSpecializationStrategy> g_kernel_strategy{KernelSpecializationStrategy::kLAZY};
std::atomic<CudaGraphStrategy> g_cuda_graph_strategy{CudaGraphStrategy::kDISABLED};

} // namespace

RuntimeDefaults::Values RuntimeDefaults::get() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_values;
}

void RuntimeDefaults::set(const Values& values) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_values = values;
  g_kernel_strategy.store(values.kernel_strategy);
  g_cuda_graph_strategy.store(values.cuda_graph_strategy);
  g_generation.fetch_add(1);
}

KernelSpecializationStrategy RuntimeDefaults::kernel_strategy() {
  return g_kernel_strategy.load();
}

CudaGraphStrategy RuntimeDefaults::cuda_graph_strategy() {
  return g_cuda_graph_strategy.load();
}

uint64_t RuntimeDefaults::generation() {
  return g_generation.load();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
