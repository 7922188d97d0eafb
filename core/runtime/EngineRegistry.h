// The engines behind the op form of execute_engine (execute_engine(inputs, serialized_engine, info)),
// which saved and loaded programs call with the engine bytes as a uint8 tensor.
//
// One engine per engine *tensor*, not per engine bytes: two modules (or two loaded copies of a program)
// hold their bytes in tensors of their own, so each gets its own engine, and with it its own runtime
// settings, execution context and runtime cache (DESIGN.md section 4). An entry holds its tensor's
// storage weakly; once the storage is gone the engine is released (its runtime cache saved) at the next
// registry access, or at once through release_expired() (Python calls it when a module is collected).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/StorageImpl.h>
#include <c10/util/intrusive_ptr.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/runtime/TRTEngine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class EngineRegistry {
 public:
  static EngineRegistry& instance();

  // The engine of this tensor, created (and its info verified against the bytes) on first use.
  c10::intrusive_ptr<TRTEngine> get_or_create(
      const at::Tensor& serialized_engine,
      const std::vector<std::string>& engine_info);
  // get_or_create, with the token of the entry: find() with it returns the same engine without
  // comparing the info again (the per-call path of a module that already made its first call).
  std::pair<c10::intrusive_ptr<TRTEngine>, int64_t> get_or_create_with_token(
      const at::Tensor& serialized_engine,
      const std::vector<std::string>& engine_info);
  // The engine of the live entry for `storage` made with `token`; null when it was released or
  // replaced (the caller then goes through get_or_create_with_token again).
  c10::intrusive_ptr<TRTEngine> find(const c10::StorageImpl* storage, int64_t token);
  // Releases the engines whose tensors are gone; returns how many.
  int64_t release_expired();
  // Releases the engine of the storage at `storage` (a StorageImpl address, Python's
  // untyped_storage()._cdata) even while the storage is still being torn down: Python calls this
  // from the engine tensor's finalizer, which runs before the storage itself is freed.
  bool release(const c10::StorageImpl* storage);
  // Releases every engine (tests, interpreter exit).
  void clear();
  int64_t size();

 private:
  struct Entry {
    c10::weak_intrusive_ptr<c10::StorageImpl> storage;
    std::vector<std::string> info;
    c10::intrusive_ptr<TRTEngine> engine;
    int64_t token;
  };
  // Moves expired entries out (under the lock) so their engines are destroyed after it is released:
  // a destructor saves the runtime cache, which takes a file lock and may be slow.
  std::vector<c10::intrusive_ptr<TRTEngine>> take_expired_locked();

  std::mutex mutex_;
  int64_t next_token_ = 1; // never reused: a stale token can only miss
  std::unordered_map<const c10::StorageImpl*, Entry> entries_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
