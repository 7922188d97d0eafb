// Shared helpers of the C++ tests: valid engine-info lists for fake engines.
#pragma once

#include <string>
#include <vector>

#include "core/runtime/Base64.h"
#include "core/runtime/runtime.h"
#include "tests/core/fake_backend.h"

namespace torch_tensorrt {
namespace tests {

inline std::string default_metadata() {
  return R"({"format":"torch_tensorrt.engine_metadata","version":1,"inputs":[],"outputs":[],"settings":{},"flags":{}})";
}

// The info list of a fake engine `spec` (input/output names taken from it).
inline std::vector<std::string> make_info(
    const FakeEngineSpec& spec,
    const std::string& name = "engine",
    const std::string& metadata = default_metadata(),
    bool requires_output_allocator = false,
    const std::string& allocation = "static") {
  namespace rt = torch_tensorrt::core::runtime;
  std::string inputs, outputs;
  for (const auto& t : spec.io) {
    std::string& list = t.is_input ? inputs : outputs;
    list += (list.empty() ? "" : "%") + t.name;
  }
  std::vector<std::string> info(rt::SERIALIZATION_LEN);
  info[rt::ABI_TARGET_IDX] = rt::ABI_VERSION;
  info[rt::NAME_IDX] = name;
  info[rt::DEVICE_IDX] = "0%8.6,12.0";
  info[rt::SERIALIZED_ENGINE_IDX] = rt::Base64::encode(spec.serialize());
  info[rt::INPUT_BINDING_NAMES_IDX] = inputs;
  info[rt::OUTPUT_BINDING_NAMES_IDX] = outputs;
  info[rt::HW_COMPATIBLE_IDX] = "0";
  info[rt::SERIALIZED_METADATA_IDX] = metadata;
  info[rt::TARGET_PLATFORM_IDX] = rt::current_platform();
  info[rt::REQUIRES_OUTPUT_ALLOCATOR_IDX] = requires_output_allocator ? "1" : "0";
  info[rt::RESOURCE_ALLOCATION_STRATEGY_IDX] = allocation;
  return info;
}

inline FakeEngineSpec fake_spec(
    const std::string& op,
    const std::vector<std::pair<std::string, std::vector<int64_t>>>& inputs,
    const std::vector<std::string>& outputs,
    torch_tensorrt::core::runtime::DataType dtype = torch_tensorrt::core::runtime::DataType::kFLOAT32) {
  FakeEngineSpec spec;
  spec.op = op;
  for (const auto& in : inputs) {
    spec.io.push_back({in.first, true, dtype, in.second});
  }
  for (const auto& out : outputs) {
    spec.io.push_back({out, false, dtype, {}});
  }
  return spec;
}

} // namespace tests
} // namespace torch_tensorrt

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)
