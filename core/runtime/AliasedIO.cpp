#include "core/runtime/AliasedIO.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

// As Python prints a list of names (['a', 'b']): the Python runtime words these errors with repr().
std::string python_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i ? ", '" : "'") + names[i] + "'";
  }
  return out + "]";
}

} // namespace

AliasedOutputs find_aliased_outputs(const EngineInfo& info, const std::vector<IOTensorInfo>& io) {
  AliasedOutputs found;
  found.input_of_output.assign(info.output_names.size(), -1);
  for (const IOTensorInfo& t : io) {
    if (t.is_input || t.aliased_input.empty()) {
      continue;
    }
    const auto& inputs = info.input_names;
    const auto source = std::find(inputs.begin(), inputs.end(), t.aliased_input);
    TORCH_CHECK(
        source != inputs.end(),
        "engine output ",
        t.name,
        " is aliased to input ",
        t.aliased_input,
        ", which is not one of the engine info's inputs ",
        python_list(inputs));
    const auto output = std::find(info.output_names.begin(), info.output_names.end(), t.name);
    if (output == info.output_names.end()) {
      continue; // the engine-info check of the loaded engine reports outputs the info lacks
    }
    found.input_of_output[static_cast<size_t>(output - info.output_names.begin())] = source - inputs.begin();
    found.any = true;
  }
  return found;
}

void check_aliased_call(
    const EngineInfo& info,
    const AliasedOutputs& aliased,
    const std::vector<at::Tensor>& inputs,
    bool torch_capture) {
  if (torch_capture) {
    std::vector<std::string> names;
    for (size_t k = 0; k < info.output_names.size(); ++k) {
      if (aliased.input_of(k) >= 0) {
        names.push_back(info.output_names[k]);
      }
    }
    std::sort(names.begin(), names.end());
    TORCH_CHECK(
        false,
        "engine '",
        info.name,
        "' writes its inputs in place (aliased outputs ",
        python_list(names),
        "), which a torch CUDA graph replaying copies of the inputs cannot do; run it without enable_cudagraphs");
  }
  for (size_t k = 0; k < info.output_names.size(); ++k) {
    const int64_t index = aliased.input_of(k);
    if (index < 0 || inputs.at(static_cast<size_t>(index)).is_contiguous()) {
      continue;
    }
    const std::string& input = info.input_names[static_cast<size_t>(index)];
    TORCH_CHECK_VALUE(
        false,
        "input ",
        input,
        " of engine '",
        info.name,
        "' is written in place (output ",
        info.output_names[k],
        " is aliased to it), so it must be a contiguous tensor: a contiguous copy would receive the update "
        "instead. Pass ",
        input,
        ".contiguous() and keep using that tensor.");
  }
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
