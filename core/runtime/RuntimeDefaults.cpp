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

} // namespace

RuntimeDefaults::Values RuntimeDefaults::get() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_values;
}

void RuntimeDefaults::set(const Values& values) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_values = values;
  g_generation.fetch_add(1);
}

uint64_t RuntimeDefaults::generation() {
  return g_generation.load();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
