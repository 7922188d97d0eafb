// Typed, validated view of the serialized engine-info list (see runtime.h for the slots).
// The same rules as EngineInfo.from_list in py/torch_tensorrt/dynamo/runtime/_engine_info.py:
// anything malformed throws std::invalid_argument naming the slot
// ("engine info slot NAME_IDX (1): engine name is empty").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/EngineMetadata.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

class EngineInfo {
 public:
  // Parses and validates every slot; the engine bytes are decoded from base64.
  static EngineInfo from_list(const std::vector<std::string>& info);

  std::string abi_version;
  std::string name;
  int64_t gpu_id = 0;
  std::vector<std::string> compute_capabilities;
  std::string engine; // raw engine bytes
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  bool hardware_compatible = false;
  EngineMetadata metadata;
  std::string target_platform;
  bool requires_output_allocator = false;
  std::string resource_allocation_strategy = "static";
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
