#include "core/runtime/EngineInputChecks.h"

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <utility>

#include "core/runtime/execute_engine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

std::string shape_str(c10::IntArrayRef shape) {
  std::ostringstream ss;
  ss << "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    ss << (i ? ", " : "") << shape[i];
  }
  ss << (shape.size() == 1 ? ",)" : ")");
  return ss.str();
}

namespace {

// As Python prints it (torch.float32): both runtimes word their errors alike.
std::string python_dtype_name(c10::ScalarType t) {
  return "torch." + std::string(c10::getDtypeNames(t).first);
}

// The engine's range for dim k of an input: its profile, else its static size (dynamic: unbounded).
std::pair<int64_t, int64_t> dim_range(const InputSpec& spec, size_t k) {
  if (spec.has_profile) {
    return {spec.min_shape[k], spec.max_shape[k]};
  }
  const auto& d = spec.shape[k];
  return d.is_static ? std::pair<int64_t, int64_t>{d.value, d.value} : std::pair<int64_t, int64_t>{0, INT64_MAX};
}

void check_input_range(const EngineInfo& info, const InputSpec& spec, const std::string& name, const at::Tensor& t) {
  const size_t rank = spec.has_profile ? spec.min_shape.size() : spec.shape.size();
  bool ok = static_cast<size_t>(t.dim()) == rank;
  for (size_t k = 0; ok && k < rank; ++k) {
    const auto [lo, hi] = dim_range(spec, k);
    ok = lo <= t.size(static_cast<int64_t>(k)) && t.size(static_cast<int64_t>(k)) <= hi;
  }
  if (ok) {
    return;
  }
  std::vector<int64_t> lo, hi; // only to word the error
  for (size_t k = 0; k < rank; ++k) {
    lo.push_back(dim_range(spec, k).first);
    hi.push_back(dim_range(spec, k).second);
  }
  TORCH_CHECK_VALUE(
      false,
      "input ",
      name,
      " of engine '",
      info.name,
      "' has shape ",
      shape_str(t.sizes()),
      ", outside the range the engine was built for: min ",
      shape_str(lo),
      ", max ",
      shape_str(hi),
      ". Recompile with a wider torch_tensorrt.Input(min_shape=..., max_shape=...).");
}

bool is_host_input(const std::vector<ShapeTensorInput>& shape_inputs, size_t index) {
  return std::any_of(shape_inputs.begin(), shape_inputs.end(), [&](const ShapeTensorInput& s) {
    return s.index == index && s.host;
  });
}

// The values of a shape-tensor input, as ints (the input's dtype is int32 or int64, checked before).
std::vector<int64_t> shape_tensor_values(const at::Tensor& host) {
  at::Tensor values = host.to(c10::ScalarType::Long).contiguous();
  const int64_t* data = values.data_ptr<int64_t>();
  return std::vector<int64_t>(data, data + values.numel());
}

} // namespace

void check_inputs(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device) {
  const EngineInfo& info = engine.info();
  const std::vector<ShapeTensorInput>& shape_inputs = engine.shape_inputs();
  TORCH_CHECK_VALUE(
      inputs.size() == info.input_names.size(),
      "engine '",
      info.name,
      "' takes ",
      info.input_names.size(),
      " inputs (",
      c10::Join(", ", info.input_names),
      "), got ",
      inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& t = inputs[i];
    const std::string& name = info.input_names[i];
    TORCH_CHECK_TYPE(t.defined(), "input ", name, " of engine '", info.name, "' is an undefined tensor");
    c10::ScalarType want = to_scalar_type(engine.io_tensor(name).dtype);
    TORCH_CHECK_TYPE(
        t.scalar_type() == want,
        "input ",
        name,
        " of engine '",
        info.name,
        "' must have dtype ",
        python_dtype_name(want),
        ", got ",
        python_dtype_name(t.scalar_type()),
        "; cast it with .to(",
        python_dtype_name(want),
        ")");
    if (i < info.metadata.inputs.size()) {
      check_input_range(info, info.metadata.inputs[i], name, t);
    }
    if (!shape_inputs.empty() && is_host_input(shape_inputs, i)) {
      continue; // read from host memory: any device will do (prepare_shape_inputs copies it)
    }
    bool same_device = t.device().type() == device.type() && (!device.has_index() || t.device().index() == device.index());
    TORCH_CHECK(
        same_device,
        "input ",
        name,
        " of engine '",
        info.name,
        "' is on ",
        t.device(),
        "; the engine runs on ",
        device,
        ". Move the input with .to('",
        device,
        "').");
  }
}

// Shape-tensor inputs (TRTEngine::shape_inputs): the values of those the metadata bounds are checked,
// with the Python runtime's words (_shape_tensor_inputs.host_shape_inputs), since TensorRT's own report
// names neither the input nor the fix; those TensorRT reads from host memory become a host copy.
// Returns the values, in shape_inputs order (a torch CUDA graph is valid for one set of them).
std::vector<std::vector<int64_t>> prepare_shape_inputs(TRTEngine& engine, std::vector<at::Tensor>& inputs) {
  const EngineInfo& info = engine.info();
  std::vector<std::vector<int64_t>> all_values;
  for (const ShapeTensorInput& shape_input : engine.shape_inputs()) {
    at::Tensor host = inputs[shape_input.index].detach().to(c10::Device(c10::DeviceType::CPU)).contiguous();
    std::vector<int64_t> found = shape_tensor_values(host);
    const auto& lo = shape_input.min_values;
    const auto& hi = shape_input.max_values;
    bool ok = !shape_input.has_range || found.size() == lo.size();
    for (size_t k = 0; ok && shape_input.has_range && k < found.size(); ++k) {
      ok = lo[k] <= found[k] && found[k] <= hi[k];
    }
    TORCH_CHECK_VALUE(
        ok,
        "input ",
        info.input_names[shape_input.index],
        " of engine '",
        info.name,
        "' is a shape tensor with values ",
        shape_str(found),
        ", outside the values the engine was built for: min ",
        shape_str(lo),
        ", max ",
        shape_str(hi),
        ". Pass values inside that range, or recompile with a wider "
        "torch_tensorrt.Input(min_shape=..., max_shape=..., is_shape_tensor=True).");
    if (shape_input.host) {
      inputs[shape_input.index] = host;
    }
    all_values.push_back(std::move(found));
  }
  return all_values;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
