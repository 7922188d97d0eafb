#include "tests/core/fake_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

namespace torch_tensorrt {
namespace tests {

namespace {

std::string dims_text(const std::vector<int64_t>& dims) {
  if (dims.empty()) {
    return "-";
  }
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) {
    out += (i ? "," : "") + std::to_string(dims[i]);
  }
  return out;
}

std::vector<int64_t> parse_dims(const std::string& text) {
  std::vector<int64_t> dims;
  if (text == "-") {
    return dims;
  }
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    dims.push_back(std::stoll(part));
  }
  return dims;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    n *= d;
  }
  return n;
}

template <typename T>
void add_into(void* out, const std::vector<void*>& ins, int64_t n) {
  T* o = static_cast<T*>(out);
  for (int64_t i = 0; i < n; ++i) {
    T acc = 0;
    for (void* in : ins) {
      acc += static_cast<const T*>(in)[i];
    }
    o[i] = acc;
  }
}

class FakeGraphCapture : public rt::GraphCapture {
 public:
  explicit FakeGraphCapture(std::shared_ptr<FakeBackend> backend) : backend_(std::move(backend)) {}
  void begin(void*) override {
    if (backend_->recording != nullptr) {
      throw std::runtime_error("fake backend: nested capture");
    }
    recorded_.clear();
    backend_->recording = &recorded_;
  }
  void end(void*) override {
    backend_->recording = nullptr;
  }
  void replay(void*) override {
    if (recorded_.empty()) {
      throw std::runtime_error("fake backend: replay of an empty graph");
    }
    for (auto& fn : recorded_) {
      fn();
    }
  }

 private:
  std::shared_ptr<FakeBackend> backend_;
  std::vector<std::function<void()>> recorded_;
};

class FakeContext : public rt::BackendExecutionContext {
 public:
  FakeContext(
      std::shared_ptr<FakeBackend> backend,
      const FakeEngineSpec& spec,
      const rt::ContextOptions& options,
      bool rtx,
      std::shared_ptr<int64_t> live)
      : backend_(std::move(backend)), spec_(spec), options_(options), rtx_(rtx), live_(std::move(live)) {
    ++*live_;
    stats_["profile"] = 0;
    if (options.use_runtime_cache && !options.runtime_cache.empty()) {
      const std::string magic = "FAKECACHE1\n";
      if (options.runtime_cache.compare(0, magic.size(), magic) != 0) {
        throw std::invalid_argument("fake backend: not a runtime cache of this backend");
      }
      std::stringstream ss(options.runtime_cache.substr(magic.size()));
      std::string line;
      while (std::getline(ss, line)) {
        if (!line.empty()) {
          kernels_.insert(line);
        }
      }
      stats_["cache_kernels_loaded"] = static_cast<int64_t>(kernels_.size());
    }
    stats_["kernel_strategy"] = static_cast<int64_t>(options.kernel_strategy);
    stats_["cuda_graph_strategy"] = static_cast<int64_t>(options.cuda_graph_strategy);
    stats_["allocation"] = static_cast<int64_t>(options.allocation);
    stats_["use_runtime_cache"] = options.use_runtime_cache ? 1 : 0;
  }

  ~FakeContext() override {
    --*live_;
  }

  bool set_optimization_profile(int32_t index, void*) override {
    const int32_t count = std::max<int32_t>(static_cast<int32_t>(spec_.profiles.size()), 1);
    if (index < 0 || index >= count) {
      return false;
    }
    profile_ = index;
    stats_["profile"] = index;
    stats_["profile_switches"]++;
    return true;
  }

  const rt::IOTensorInfo* find(const std::string& name) const {
    for (const auto& t : spec_.io) {
      if (t.name == name) {
        return &t;
      }
    }
    return nullptr;
  }

  std::vector<const rt::IOTensorInfo*> inputs() const {
    std::vector<const rt::IOTensorInfo*> out;
    for (const auto& t : spec_.io) {
      if (t.is_input) {
        out.push_back(&t);
      }
    }
    return out;
  }

  bool set_input_shape(const std::string& name, const std::vector<int64_t>& shape) override {
    stats_["set_input_shape_calls"]++; // the runtime sets shapes only when they change
    const rt::IOTensorInfo* t = find(name);
    if (t == nullptr || !t->is_input || t->shape.size() != shape.size()) {
      return false;
    }
    for (size_t i = 0; i < shape.size(); ++i) {
      if (t->shape[i] >= 0 && t->shape[i] != shape[i]) {
        return false;
      }
    }
    auto profile = spec_.profiles.find(profile_);
    if (profile != spec_.profiles.end()) {
      const rt::ProfileShape& range = profile->second.at(name);
      for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < range.min.at(i) || shape[i] > range.max.at(i)) {
          return false; // outside the active profile: TensorRT refuses the shape
        }
      }
    }
    shapes_[name] = shape;
    return true;
  }

  std::vector<int64_t> get_output_shape(const std::string& name) override {
    stats_["get_output_shape_calls"]++;
    auto ins = inputs();
    const rt::IOTensorInfo* asked = find(name);
    if (asked != nullptr && !asked->aliased_input.empty()) {
      return shapes_.at(asked->aliased_input); // the input's memory, so its shape
    }
    if (spec_.op == "filter_positive") {
      return {-1};
    }
    if (spec_.op == "add") {
      return shapes_.at(ins.at(0)->name);
    }
    size_t k = 0;
    for (const auto& t : spec_.io) {
      if (!t.is_input && t.aliased_input.empty()) {
        if (t.name == name) {
          return shapes_.at(ins.at(k % ins.size())->name);
        }
        ++k;
      }
    }
    throw std::runtime_error("fake backend: unknown output " + name);
  }

  bool set_tensor_address(const std::string& name, void* data) override {
    if (find(name) == nullptr || data == nullptr) {
      return false;
    }
    addresses_[name] = data;
    return true;
  }

  bool set_output_allocator(const std::string& name, rt::OutputAllocator* allocator) override {
    if (find(name) == nullptr) {
      return false;
    }
    allocators_[name] = allocator;
    return true;
  }

  int64_t device_memory_size_for_shapes() override {
    return 256;
  }

  bool set_device_memory(void* memory, int64_t size) override {
    device_memory_ = memory;
    device_memory_size_ = size;
    stats_["device_memory_sets"]++;
    return memory != nullptr;
  }

  bool uses_native_capture() const override {
    return rtx_ && options_.cuda_graph_strategy == rt::CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE;
  }

  bool is_stream_capturable(void*) override {
    return spec_.op != "filter_positive" && backend_->stream_capturable();
  }

  bool enqueue(void*) override {
    if (options_.allocation == rt::ResourceAllocationStrategy::kDYNAMIC &&
        (device_memory_ == nullptr || device_memory_size_ < 256)) {
      return false; // TensorRT fails the same way without scratch memory
    }
    stats_["enqueues"]++;
    if (!read_host_inputs()) {
      return false; // values outside the active profile: TensorRT fails the enqueue
    }
    if (uses_native_capture()) {
      stats_["native_capture_runs"]++;
    }
    std::string key = spec_.op;
    for (const auto& kv : shapes_) {
      key += ";" + kv.first + "=" + dims_text(kv.second);
    }
    kernels_.insert(key);
    if (backend_->recording != nullptr) {
      if (spec_.op == "filter_positive") {
        return false; // data-dependent shapes cannot be captured
      }
      stats_["recorded"]++;
      auto shapes = shapes_;
      auto addresses = addresses_;
      backend_->recording->push_back([this, shapes, addresses]() { run(shapes, addresses); });
      return true;
    }
    if (!run(shapes_, addresses_)) {
      return false;
    }
    report_layer_times();
    return true;
  }

  bool set_profiler(rt::LayerTimeReceiver* receiver) override {
    profiler_ = receiver;
    stats_["profiler_attached"] = receiver != nullptr ? 1 : 0;
    return true;
  }

  std::string serialize_runtime_cache() override {
    if (!options_.use_runtime_cache) {
      return "";
    }
    std::string out = "FAKECACHE1\n";
    for (const auto& k : kernels_) {
      out += k + "\n";
    }
    return out;
  }

  std::map<std::string, int64_t> debug_stats() const override {
    return stats_;
  }

 private:
  // As TensorRT's profiler: once per layer of a direct run (graph replays report nothing), before the
  // enqueue returns. Layer k takes 0.25 * (k + 1) ms, so tests can check sums and order exactly.
  void report_layer_times() {
    if (profiler_ == nullptr) {
      return;
    }
    const std::vector<std::string> layers = spec_.layers.empty() ? std::vector<std::string>{spec_.op} : spec_.layers;
    for (size_t k = 0; k < layers.size(); ++k) {
      profiler_->report_layer_time(layers[k], 0.25F * static_cast<float>(k + 1));
    }
  }

 private:
  // TensorRT reads host (shape-tensor) inputs when it plans a launch: the values read are recorded as
  // stats "host_value:<input>:<k>", so tests see what the runtime bound. False when a value lies outside
  // the input's value range in the active profile ("values" lines).
  bool read_host_inputs() {
    bool inside = true;
    auto profile_values = spec_.profile_values.find(profile_);
    for (const auto* in : inputs()) {
      auto address = addresses_.find(in->name);
      if (!in->host_input || address == addresses_.end() || !shapes_.count(in->name)) {
        continue;
      }
      const rt::ProfileShape* range = nullptr;
      if (profile_values != spec_.profile_values.end() && profile_values->second.count(in->name)) {
        range = &profile_values->second.at(in->name);
      }
      for (int64_t k = 0; k < numel(shapes_.at(in->name)); ++k) {
        const int64_t value = in->dtype == rt::DataType::kINT32 ? static_cast<const int32_t*>(address->second)[k]
                                                                : static_cast<const int64_t*>(address->second)[k];
        stats_["host_value:" + in->name + ":" + std::to_string(k)] = value;
        const auto at = static_cast<size_t>(k);
        if (range != nullptr && (at >= range->min.size() || value < range->min[at] || value > range->max[at])) {
          inside = false;
        }
      }
    }
    return inside;
  }

  bool run(const std::map<std::string, std::vector<int64_t>>& shapes, const std::map<std::string, void*>& addresses) {
    stats_["runs"]++;
    auto ins = inputs();
    for (const auto* in : ins) {
      if (!shapes.count(in->name) || !addresses.count(in->name)) {
        return false;
      }
    }
    if (spec_.op == "filter_positive") {
      const auto* in = ins.at(0);
      const float* data = static_cast<const float*>(addresses.at(in->name));
      std::vector<float> kept;
      for (int64_t i = 0; i < numel(shapes.at(in->name)); ++i) {
        if (data[i] > 0) {
          kept.push_back(data[i]);
        }
      }
      for (const auto& t : spec_.io) {
        if (t.is_input) {
          continue;
        }
        auto it = allocators_.find(t.name);
        if (it == allocators_.end()) {
          return false;
        }
        uint64_t bytes = std::max<uint64_t>(kept.size() * sizeof(float), 1);
        void* out = it->second->reallocate(t.name, nullptr, bytes, 256);
        if (out == nullptr) {
          return false;
        }
        if (!kept.empty()) {
          std::memcpy(out, kept.data(), kept.size() * sizeof(float));
        }
        it->second->notify_shape(t.name, {static_cast<int64_t>(kept.size())});
      }
      return true;
    }
    if (!write_aliased_outputs(shapes, addresses)) {
      return false;
    }
    size_t k = 0;
    for (const auto& t : spec_.io) {
      if (t.is_input || !t.aliased_input.empty()) {
        continue;
      }
      auto out = addresses.find(t.name);
      if (out == addresses.end()) {
        return false;
      }
      if (spec_.op == "add") {
        std::vector<void*> srcs;
        for (const auto* in : ins) {
          srcs.push_back(addresses.at(in->name));
        }
        int64_t n = numel(shapes.at(ins[0]->name));
        switch (t.dtype) {
          case rt::DataType::kFLOAT32:
            add_into<float>(out->second, srcs, n);
            break;
          case rt::DataType::kFLOAT64:
            add_into<double>(out->second, srcs, n);
            break;
          case rt::DataType::kINT32:
            add_into<int32_t>(out->second, srcs, n);
            break;
          case rt::DataType::kINT64:
            add_into<int64_t>(out->second, srcs, n);
            break;
          default:
            return false;
        }
      } else {
        const auto* in = ins.at(k % ins.size());
        size_t bytes = static_cast<size_t>(numel(shapes.at(in->name))) * rt::dtype_size(in->dtype);
        if (bytes > 0) {
          std::memcpy(out->second, addresses.at(in->name), bytes);
        }
      }
      ++k;
    }
    return true;
  }

  // Aliased outputs ("aliases" lines): each must be bound at its input's address (as TensorRT requires of a
  // KV-cache update's output), which gets input 0 added in place. Counted as stats "aliased_writes".
  bool write_aliased_outputs(
      const std::map<std::string, std::vector<int64_t>>& shapes,
      const std::map<std::string, void*>& addresses) {
    for (const auto& t : spec_.io) {
      if (t.is_input || t.aliased_input.empty()) {
        continue;
      }
      auto out = addresses.find(t.name);
      if (out == addresses.end() || out->second != addresses.at(t.aliased_input) || t.dtype != rt::DataType::kFLOAT32) {
        return false;
      }
      const auto* first = inputs().at(0);
      const float* update = static_cast<const float*>(addresses.at(first->name));
      const int64_t n = numel(shapes.at(first->name));
      float* memory = static_cast<float*>(out->second);
      for (int64_t i = 0; n > 0 && i < numel(shapes.at(t.aliased_input)); ++i) {
        memory[i] += update[i % n];
      }
      stats_["aliased_writes"]++;
    }
    return true;
  }

  std::shared_ptr<FakeBackend> backend_;
  FakeEngineSpec spec_;
  rt::ContextOptions options_;
  bool rtx_;
  std::map<std::string, std::vector<int64_t>> shapes_;
  std::map<std::string, void*> addresses_;
  std::map<std::string, rt::OutputAllocator*> allocators_;
  void* device_memory_ = nullptr;
  int64_t device_memory_size_ = 0;
  std::set<std::string> kernels_;
  std::map<std::string, int64_t> stats_;
  std::shared_ptr<int64_t> live_;
  rt::LayerTimeReceiver* profiler_ = nullptr;
  int32_t profile_ = 0;
};

class FakeEngine : public rt::BackendEngine {
 public:
  FakeEngine(std::shared_ptr<FakeBackend> backend, FakeEngineSpec spec, bool rtx)
      : backend_(std::move(backend)), spec_(std::move(spec)), rtx_(rtx), budget_(spec_.streamable) {}

  const std::vector<rt::IOTensorInfo>& io_tensors() const override {
    return spec_.io;
  }

  std::unique_ptr<rt::BackendExecutionContext> create_execution_context(const rt::ContextOptions& options) override {
    return std::make_unique<FakeContext>(backend_, spec_, options, rtx_, live_contexts_);
  }

  int32_t num_optimization_profiles() const override {
    return std::max<int32_t>(static_cast<int32_t>(spec_.profiles.size()), 1);
  }

  bool profile_shape(const std::string& name, int32_t profile, rt::ProfileShape* out) const override {
    auto p = spec_.profiles.find(profile);
    if (p == spec_.profiles.end() || !p->second.count(name)) {
      return false;
    }
    *out = p->second.at(name);
    return true;
  }

  bool profile_values(const std::string& name, int32_t profile, rt::ProfileShape* out) const override {
    auto p = spec_.profile_values.find(profile);
    if (p == spec_.profile_values.end() || !p->second.count(name)) {
      return false;
    }
    *out = p->second.at(name);
    return true;
  }

  int64_t streamable_weights_size() const override {
    return spec_.streamable;
  }
  int64_t weight_streaming_budget() const override {
    return budget_;
  }
  bool set_weight_streaming_budget(int64_t bytes) override {
    if (spec_.streamable <= 0 || bytes < 0 || *live_contexts_ > 0) {
      return false; // no streaming, a negative budget, or a context alive: TensorRT refuses
    }
    budget_ = std::min(bytes, spec_.streamable);
    return true;
  }
  int64_t weight_streaming_automatic_budget() const override {
    return spec_.automatic_budget >= 0 ? spec_.automatic_budget : spec_.streamable;
  }

 private:
  std::shared_ptr<FakeBackend> backend_;
  FakeEngineSpec spec_;
  bool rtx_;
  int64_t budget_;
  std::shared_ptr<int64_t> live_contexts_ = std::make_shared<int64_t>(0);
};

} // namespace

std::string FakeEngineSpec::serialize() const {
  std::string out = "FAKE_TRT_ENGINE 1\nop " + op + "\n";
  for (const auto& t : io) {
    if (t.is_input) {
      out += "input " + t.name + " " + rt::dtype_name(t.dtype) + " " + dims_text(t.shape) + (t.host_input ? " host" : "") +
          "\n";
    } else {
      out += "output " + t.name + " " + rt::dtype_name(t.dtype) +
          (t.aliased_input.empty() ? "" : " aliases " + t.aliased_input) + "\n";
    }
  }
  for (const auto& [index, inputs] : profiles) {
    for (const auto& [name, shape] : inputs) {
      out += "profile " + std::to_string(index) + " " + name + " " + dims_text(shape.min) + " " + dims_text(shape.opt) +
          " " + dims_text(shape.max) + "\n";
    }
  }
  for (const auto& [index, inputs] : profile_values) {
    for (const auto& [name, values] : inputs) {
      out += "values " + std::to_string(index) + " " + name + " " + dims_text(values.min) + " " +
          dims_text(values.opt) + " " + dims_text(values.max) + "\n";
    }
  }
  for (const auto& layer : layers) {
    out += "layer " + layer + "\n";
  }
  if (streamable > 0) {
    out += "streamable " + std::to_string(streamable) + "\n";
  }
  if (automatic_budget >= 0) {
    out += "automatic_budget " + std::to_string(automatic_budget) + "\n";
  }
  return out;
}

FakeEngineSpec FakeEngineSpec::parse(const std::string& bytes) {
  std::stringstream ss(bytes);
  std::string line;
  if (!std::getline(ss, line) || line != "FAKE_TRT_ENGINE 1") {
    throw std::runtime_error("fake backend: not a fake engine (bad header)");
  }
  FakeEngineSpec spec;
  spec.io.clear();
  while (std::getline(ss, line)) {
    if (line.empty()) {
      continue;
    }
    std::stringstream ls(line);
    std::string kind, name, dtype, dims;
    ls >> kind;
    if (kind == "profile" || kind == "values") {
      int32_t index = -1;
      std::string lo, opt, hi;
      ls >> index >> name >> lo >> opt >> hi;
      (kind == "profile" ? spec.profiles : spec.profile_values)[index][name] =
          rt::ProfileShape{parse_dims(lo), parse_dims(opt), parse_dims(hi)};
      continue;
    }
    if (kind == "streamable" || kind == "automatic_budget") {
      int64_t bytes = 0;
      ls >> bytes;
      (kind == "streamable" ? spec.streamable : spec.automatic_budget) = bytes;
      continue;
    }
    if (kind == "layer") {
      ls >> name;
      spec.layers.push_back(name);
      continue;
    }
    if (kind == "op") {
      ls >> spec.op;
      if (spec.op != "identity" && spec.op != "add" && spec.op != "filter_positive") {
        throw std::runtime_error("fake backend: unknown op " + spec.op);
      }
      continue;
    }
    ls >> name >> dtype;
    rt::IOTensorInfo t;
    t.name = name;
    if (!rt::parse_dtype(dtype, &t.dtype)) {
      throw std::runtime_error("fake backend: unknown dtype " + dtype);
    }
    if (kind == "input") {
      std::string location;
      ls >> dims >> location;
      t.is_input = true;
      t.shape = parse_dims(dims);
      if (!location.empty() && location != "host") {
        throw std::runtime_error("fake backend: bad input location '" + location + "' (expected host)");
      }
      t.host_input = location == "host";
    } else if (kind == "output") {
      std::string keyword;
      ls >> keyword >> t.aliased_input;
      if (!keyword.empty() && (keyword != "aliases" || t.aliased_input.empty())) {
        throw std::runtime_error("fake backend: bad output line '" + line + "' (expected aliases <input>)");
      }
      t.is_input = false;
    } else {
      throw std::runtime_error("fake backend: bad line '" + line + "'");
    }
    spec.io.push_back(t);
  }
  return spec;
}

FakeBackend::FakeBackend(std::string name, bool rtx) : name_(std::move(name)), rtx_(rtx) {}

rt::BackendFeatures FakeBackend::features() const {
  rt::BackendFeatures f;
  f.runtime_config = true;
  f.kernel_strategy = rtx_;
  f.native_cuda_graphs = rtx_;
  f.runtime_cache = rtx_;
  return f;
}

std::unique_ptr<rt::BackendEngine> FakeBackend::deserialize_engine(const std::string& bytes, const std::string&) {
  ++engines_loaded;
  return std::make_unique<FakeEngine>(shared_from_this(), FakeEngineSpec::parse(bytes), rtx_);
}

bool FakeBackend::is_stream_capturing(void*) {
  const char* env = std::getenv("TORCH_TENSORRT_FAKE_OUTER_CAPTURE");
  return simulate_outer_capture || recording != nullptr || (env != nullptr && std::string(env) == "1");
}

bool FakeBackend::stream_capturable() const {
  const char* env = std::getenv("TORCH_TENSORRT_FAKE_NOT_CAPTURABLE");
  return !simulate_not_capturable && !(env != nullptr && std::string(env) == "1");
}

std::unique_ptr<rt::GraphCapture> FakeBackend::create_graph_capture() {
  return std::make_unique<FakeGraphCapture>(shared_from_this());
}

} // namespace tests
} // namespace torch_tensorrt

// Entry point for BackendRegistry::load_test_backend (the Python tests load this library).
extern "C" void torch_tensorrt_create_test_backend(
    std::shared_ptr<torch_tensorrt::core::runtime::EngineBackend>* out) {
  *out = std::make_shared<torch_tensorrt::tests::FakeBackend>("fake", true);
}
