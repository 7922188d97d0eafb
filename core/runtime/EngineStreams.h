#pragma once

#include <c10/core/Device.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <optional>

#include "core/runtime/EngineBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// The caller's stream and the stream the engine runs on, with the event hand-offs between them.
class EngineStreams {
 public:
  EngineStreams(c10::Device device, EngineBackend& backend);

  bool outer_capture() const {
    return outer_capture_;
  }
  void* engine_handle() const {
    return engine_ ? engine_->native_handle() : nullptr;
  }

  // One context serves every stream, and its activation memory is shared: an enqueue on another
  // stream than the engine's previous one waits for that one (the engine's mutex orders only the
  // host side). Free while the stream stays the same; never inside a capture, which must not wait
  // on work outside it. As the Python engine's _after_last_enqueue.
  void follow_previous_enqueue(std::optional<c10::Stream>& last);
  // Work queued on the caller's stream so far happens before the engine's work...
  void caller_to_engine();
  // ... and the engine's work happens before anything the caller queues next.
  void engine_to_caller();

 private:
  // A stream of torch's pool that nobody is capturing: pool streams are shared (torch.cuda.Stream()
  // and torch.cuda.graph's capture stream come from the same pool), and work enqueued on a stream
  // another thread is capturing would join that graph instead of running. The pool hands its streams
  // out round-robin, so the next one is another stream.
  c10::Stream uncaptured_pool_stream(c10::Device device, EngineBackend& backend) const;

  const c10::impl::DeviceGuardImplInterface* impl_ = nullptr;
  std::optional<c10::Stream> caller_;
  std::optional<c10::Stream> engine_;
  bool outer_capture_ = false;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
