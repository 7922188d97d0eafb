#include "core/runtime/EngineRegistry.h"

#include <cstdlib>
#include <utility>

namespace torch_tensorrt {
namespace core {
namespace runtime {

EngineRegistry& EngineRegistry::instance() {
  // Never destroyed by static destruction (engines would save caches through objects that may be gone);
  // the engines still registered at exit are released, and their runtime caches saved, by an exit
  // hook registered after torch's own statics exist, so it runs before they are destroyed.
  static EngineRegistry* registry = [] {
    auto* created = new EngineRegistry();
    std::atexit([] { EngineRegistry::instance().clear(); });
    return created;
  }();
  return *registry;
}

std::vector<c10::intrusive_ptr<TRTEngine>> EngineRegistry::take_expired_locked() {
  std::vector<c10::intrusive_ptr<TRTEngine>> expired;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.storage.expired()) {
      expired.push_back(std::move(it->second.engine));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

c10::intrusive_ptr<TRTEngine> EngineRegistry::get_or_create(
    const at::Tensor& serialized_engine,
    const std::vector<std::string>& engine_info) {
  return get_or_create_with_token(serialized_engine, engine_info).first;
}

std::pair<c10::intrusive_ptr<TRTEngine>, int64_t> EngineRegistry::get_or_create_with_token(
    const at::Tensor& serialized_engine,
    const std::vector<std::string>& engine_info) {
  TORCH_CHECK_VALUE(serialized_engine.defined(), "execute_engine: the serialized engine tensor is undefined");
  const c10::StorageImpl* key = serialized_engine.storage().unsafeGetStorageImpl();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && !it->second.storage.expired() && it->second.info == engine_info) {
      return {it->second.engine, it->second.token};
    }
  }
  // Verification (digest of the bytes) and parsing happen outside the lock.
  auto engine = c10::make_intrusive<TRTEngine>(TRTEngine::join_engine_info(serialized_engine, engine_info));
  std::vector<c10::intrusive_ptr<TRTEngine>> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    released = take_expired_locked();
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.info == engine_info) {
      return {it->second.engine, it->second.token}; // a concurrent creator won
    }
    if (it != entries_.end()) {
      released.push_back(std::move(it->second.engine)); // same storage, other info: replaced
      entries_.erase(it);
    }
    const int64_t token = next_token_++;
    entries_.emplace(key, Entry{serialized_engine.storage().getWeakStorageImpl(), engine_info, engine, token});
    return {engine, token};
  }
}

c10::intrusive_ptr<TRTEngine> EngineRegistry::find(const c10::StorageImpl* storage, int64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(storage);
  if (it == entries_.end() || it->second.token != token || it->second.storage.expired()) {
    return {};
  }
  return it->second.engine;
}

int64_t EngineRegistry::release_expired() {
  std::vector<c10::intrusive_ptr<TRTEngine>> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    released = take_expired_locked();
  }
  return static_cast<int64_t>(released.size());
}

bool EngineRegistry::release(const c10::StorageImpl* storage) {
  c10::intrusive_ptr<TRTEngine> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(storage);
    if (it == entries_.end()) {
      return false;
    }
    released = std::move(it->second.engine);
    entries_.erase(it);
  }
  return true;
}

void EngineRegistry::clear() {
  std::unordered_map<const c10::StorageImpl*, Entry> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    released.swap(entries_);
  }
}

int64_t EngineRegistry::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(entries_.size());
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
