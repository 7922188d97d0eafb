#include "core/runtime/DispatcherGraphCapture.h"

#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {
// Per thread: a capture records the stream it was begun on, and a CPU stream is the calling thread.
thread_local std::vector<DispatcherGraphCapture::Step>* t_recording = nullptr;
} // namespace

std::vector<DispatcherGraphCapture::Step>* DispatcherGraphCapture::recording() {
  return t_recording;
}

void DispatcherGraphCapture::begin(void*) {
  if (t_recording != nullptr) {
    throw std::runtime_error("a CUDA graph capture is already recording on this thread");
  }
  steps_.clear();
  t_recording = &steps_;
}

void DispatcherGraphCapture::end(void*) {
  if (t_recording == &steps_) {
    t_recording = nullptr;
  }
}

void DispatcherGraphCapture::replay(void*) {
  if (steps_.empty()) {
    throw std::runtime_error("replay of a CUDA graph that recorded nothing");
  }
  for (auto& step : steps_) {
    if (!step()) {
      throw std::runtime_error("an engine failed while its CUDA graph was replayed");
    }
  }
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
