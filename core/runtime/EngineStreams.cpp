#include "core/runtime/EngineStreams.h"

#include <c10/core/Event.h>
#include <c10/util/Exception.h>

namespace torch_tensorrt {
namespace core {
namespace runtime {

EngineStreams::EngineStreams(c10::Device device, EngineBackend& backend) {
  if (!device.is_cuda()) {
    outer_capture_ = backend.is_stream_capturing(nullptr);
    return;
  }
  impl_ = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
  caller_ = impl_->getStream(device);
  engine_ = caller_;
  outer_capture_ = backend.is_stream_capturing(caller_->native_handle());
  // Never enqueue on the legacy default stream (it synchronizes with everything); a capture must
  // stay on the stream being captured.
  if (!outer_capture_ && *caller_ == impl_->getDefaultStream(device)) {
    engine_ = uncaptured_pool_stream(device, backend);
  }
}

c10::Stream EngineStreams::uncaptured_pool_stream(c10::Device device, EngineBackend& backend) const {
  constexpr int kPoolStreams = 32; // c10's streams per priority and device
  for (int attempt = 0; attempt < kPoolStreams; ++attempt) {
    c10::Stream stream = impl_->getStreamFromGlobalPool(device, /*isHighPriority=*/false);
    if (!backend.is_stream_capturing(stream.native_handle())) {
      return stream;
    }
  }
  TORCH_CHECK(false, "every CUDA stream of torch's pool on ", device, " is being captured into a CUDA graph; "
              "run the engine on a stream of your own (with torch.cuda.stream(s): ...)");
}

void EngineStreams::follow_previous_enqueue(std::optional<c10::Stream>& last) {
  if (!engine_) {
    return;
  }
  if (last && *last != *engine_ && !outer_capture_) {
    c10::Event event(c10::DeviceType::CUDA);
    event.record(*last);
    event.block(*engine_);
  }
  last = engine_;
}

void EngineStreams::caller_to_engine() {
  if (engine_ && *engine_ != *caller_) {
    c10::Event event(c10::DeviceType::CUDA);
    event.record(*caller_);
    event.block(*engine_);
  }
}

void EngineStreams::engine_to_caller() {
  if (engine_ && *engine_ != *caller_) {
    c10::Event event(c10::DeviceType::CUDA);
    event.record(*engine_);
    event.block(*caller_);
  }
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
