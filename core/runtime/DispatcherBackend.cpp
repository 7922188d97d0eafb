#include "core/runtime/DispatcherBackend.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/DispatcherEngine.h"
#include "core/runtime/DispatcherExecutionContext.h"
#include "core/runtime/DispatcherGraphCapture.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::mutex g_sessions_mutex;
std::map<int64_t, std::shared_ptr<DispatcherBackend>>& sessions() {
  static auto* open = new std::map<int64_t, std::shared_ptr<DispatcherBackend>>();
  return *open;
}

std::vector<IOTensorInfo> parse_io(const std::vector<c10::IValue>& out, const std::string& engine) {
  const auto names = out.at(1).toListRef();
  const auto is_input = out.at(2).toListRef();
  const auto dtypes = out.at(3).toListRef();
  const std::vector<int64_t> dims = out.at(4).toIntVector();
  const auto host_inputs = out.at(5).toListRef();
  if (is_input.size() != names.size() || dtypes.size() != names.size() || host_inputs.size() != names.size()) {
    throw std::runtime_error("_dispatcher_load: io lists of engine '" + engine + "' differ in length");
  }
  std::vector<IOTensorInfo> io;
  size_t pos = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    IOTensorInfo t;
    t.name = names[i].toStringRef();
    t.is_input = is_input[i].toBool();
    t.host_input = host_inputs[i].toBool();
    if (!parse_dtype(dtypes[i].toStringRef(), &t.dtype)) {
      throw std::runtime_error("_dispatcher_load: tensor '" + t.name + "' has unsupported dtype " + dtypes[i].toStringRef());
    }
    const int64_t rank = pos < dims.size() ? dims[pos++] : -1;
    if (rank < 0 || pos + static_cast<size_t>(rank) > dims.size()) {
      throw std::runtime_error("_dispatcher_load: malformed dims of tensor '" + t.name + "'");
    }
    t.shape.assign(dims.begin() + static_cast<std::ptrdiff_t>(pos), dims.begin() + static_cast<std::ptrdiff_t>(pos + rank));
    pos += static_cast<size_t>(rank);
    io.push_back(std::move(t));
  }
  return io;
}

// Per io tensor, the input an output shares memory with ("": none), as ICudaEngine::getAliasedInputTensor.
void set_aliases(c10::ArrayRef<c10::IValue> aliases, std::vector<IOTensorInfo>& io, const std::string& engine) {
  if (aliases.size() != io.size()) {
    throw std::runtime_error("_dispatcher_aliases: one entry per io tensor of engine '" + engine + "' expected");
  }
  for (size_t i = 0; i < io.size(); ++i) {
    io[i].aliased_input = io[i].is_input ? std::string() : aliases[i].toStringRef();
  }
}

// [count, then per profile and input: rank, min dims, opt dims, max dims] (see DispatcherBackend.h).
// The shapes of each input per profile, and the value ranges of shape-tensor inputs (nullopt: none).
using ProfileValues = std::vector<std::vector<std::optional<ProfileShape>>>;
std::vector<std::vector<ProfileShape>> parse_profiles(
    const std::vector<int64_t>& flat,
    const std::vector<IOTensorInfo>& io,
    const std::string& engine,
    ProfileValues* values) {
  size_t pos = 0;
  auto next = [&]() {
    if (pos >= flat.size()) {
      throw std::runtime_error("_dispatcher_profiles: malformed profiles of engine '" + engine + "'");
    }
    return flat[pos++];
  };
  const int64_t count = next();
  std::vector<std::vector<ProfileShape>> profiles(static_cast<size_t>(std::max<int64_t>(count, 0)));
  values->assign(profiles.size(), {});
  auto read_range = [&](int64_t n) {
    ProfileShape range;
    for (auto* dims : {&range.min, &range.opt, &range.max}) {
      for (int64_t d = 0; d < n; ++d) {
        dims->push_back(next());
      }
    }
    return range;
  };
  for (size_t p = 0; p < profiles.size(); ++p) {
    for (const auto& t : io) {
      if (!t.is_input) {
        continue;
      }
      profiles[p].push_back(read_range(next()));
      const int64_t n = next();
      (*values)[p].push_back(n < 0 ? std::nullopt : std::optional<ProfileShape>(read_range(n)));
    }
  }
  return profiles;
}

} // namespace

DispatcherBackend::DispatcherBackend(int64_t session, std::string name, bool rtx)
    : session_(session), name_(std::move(name)), rtx_(rtx) {}

void DispatcherBackend::begin(int64_t session, const std::string& name, bool rtx) {
  auto backend = std::make_shared<DispatcherBackend>(session, name, rtx);
  std::lock_guard<std::mutex> lock(g_sessions_mutex);
  if (!sessions().emplace(session, backend).second) {
    throw std::invalid_argument("dispatcher backend session " + std::to_string(session) + " is already open");
  }
  backend->previous_ = BackendRegistry::instance().exchange(backend);
}

void DispatcherBackend::end(int64_t session, const std::map<int64_t, std::string>& runtime_caches) {
  std::shared_ptr<DispatcherBackend> backend;
  {
    std::lock_guard<std::mutex> lock(g_sessions_mutex);
    auto it = sessions().find(session);
    if (it == sessions().end()) {
      throw std::invalid_argument("dispatcher backend session " + std::to_string(session) + " is not open");
    }
    backend = std::move(it->second);
    sessions().erase(it);
  }
  backend->close(runtime_caches);
  // Blocks may end in any order: skip over backends whose sessions ended while this one was selected.
  std::shared_ptr<EngineBackend> previous = backend->previous_;
  for (auto* d = dynamic_cast<DispatcherBackend*>(previous.get()); d != nullptr && d->closed();
       d = dynamic_cast<DispatcherBackend*>(previous.get())) {
    previous = d->previous_;
  }
  BackendRegistry::instance().restore(backend, std::move(previous));
}

void DispatcherBackend::close(const std::map<int64_t, std::string>& runtime_caches) {
  // The caches are handed over without calling out while the lock is held: a context destroyed on a
  // thread holding the Python GIL waits for this lock in remove_context.
  std::lock_guard<std::mutex> lock(contexts_mutex_);
  for (DispatcherExecutionContext* context : contexts_) {
    auto it = runtime_caches.find(context->handle());
    context->close(it == runtime_caches.end() ? std::string() : it->second);
  }
  closed_.store(true);
}

BackendFeatures DispatcherBackend::features() const {
  BackendFeatures f;
  f.runtime_config = rtx_;
  f.kernel_strategy = rtx_;
  f.native_cuda_graphs = rtx_;
  f.runtime_cache = rtx_;
  return f;
}

std::vector<c10::IValue> DispatcherBackend::call(const char* op, std::vector<c10::IValue> args) {
  if (closed()) {
    throw std::runtime_error(
        std::string("the ") + name_ + " backend's session has ended (its emulated_runtime() block exited); " +
        "this call needs the backend selected now");
  }
  const c10::OperatorHandle handle =
      c10::Dispatcher::singleton().findSchemaOrThrow((std::string("tensorrt::") + op).c_str(), "");
  torch::jit::Stack stack;
  stack.reserve(args.size() + 1);
  stack.emplace_back(session_);
  for (auto& a : args) {
    stack.push_back(std::move(a));
  }
  handle.callBoxed(&stack);
  return stack;
}

std::unique_ptr<BackendEngine> DispatcherBackend::deserialize_engine(const std::string& bytes, const std::string& name) {
  at::Tensor data = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  if (!bytes.empty()) {
    std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  }
  std::vector<c10::IValue> out = call("_dispatcher_load", {data, name});
  std::vector<IOTensorInfo> io = parse_io(out, name);
  const int64_t handle = out.at(0).toInt();
  set_aliases(call("_dispatcher_aliases", {handle}).at(0).toListRef(), io, name);
  ProfileValues values;
  std::vector<std::vector<ProfileShape>> profiles =
      parse_profiles(call("_dispatcher_profiles", {handle}).at(0).toIntVector(), io, name, &values);
  return std::make_unique<DispatcherEngine>(
      shared_from_this(), handle, std::move(io), std::move(profiles), std::move(values));
}

bool DispatcherBackend::is_stream_capturing(void*) {
  // CPU "streams" are never captured; an outer capture is the one the caller's runtime reports
  // (torch_tensorrt.runtime's whole-graph capture), as the Python runtime reads it.
  return call("_dispatcher_outer_capture", {}).at(0).toBool();
}

std::unique_ptr<GraphCapture> DispatcherBackend::create_graph_capture() {
  return std::make_unique<DispatcherGraphCapture>();
}

void DispatcherBackend::add_context(DispatcherExecutionContext* context) {
  std::lock_guard<std::mutex> lock(contexts_mutex_);
  contexts_.push_back(context);
}

void DispatcherBackend::remove_context(DispatcherExecutionContext* context) {
  std::lock_guard<std::mutex> lock(contexts_mutex_);
  contexts_.erase(std::remove(contexts_.begin(), contexts_.end(), context), contexts_.end());
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
