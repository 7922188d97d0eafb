// The engine metadata (slot SERIALIZED_METADATA_IDX): versioned JSON, read with exactly the checks
// of EngineMetadata.from_json in py/torch_tensorrt/dynamo/runtime/_engine_info.py (see the schema
// there).  Unknown keys are ignored (the info strings themselves are what gets written back).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/runtime/DataType.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

constexpr const char* METADATA_FORMAT = "torch_tensorrt.engine_metadata";
constexpr int64_t METADATA_VERSION = 1;
constexpr size_t MAX_METADATA_CHARS = 16 * 1024 * 1024;
constexpr size_t MAX_METADATA_DEPTH = 32;
constexpr size_t MAX_RANK = 8;
constexpr size_t MAX_FLAG_NAME = 256;

// Flag: the engine was built with strip_engine_weights=True and not refitted since, so it holds no
// weights and must not run (Python: _engine_metadata.WEIGHTS_STRIPPED_FLAG).
constexpr const char* WEIGHTS_STRIPPED_FLAG = "weights_stripped";
// Both runtimes refuse such an engine with this text (Python: _engine_metadata.stripped_weights_error).
std::string stripped_weights_error(const std::string& engine_name);

// One dimension: a static size or a shape expression over torch size symbols.
struct MetadataDim {
  bool is_static = true;
  int64_t value = 0;
  std::string expr;
};

struct InputSpec {
  std::string name;
  DataType dtype = DataType::kFLOAT32;
  std::vector<MetadataDim> shape;
  bool has_profile = false;
  std::vector<int64_t> min_shape;
  std::vector<int64_t> opt_shape;
  std::vector<int64_t> max_shape;
  // A shape-tensor input (Input(is_shape_tensor=True)): the min/opt/max *values* its profile allows
  // (key shape_values). execute_engine checks them on every call and binds a host copy of them.
  bool has_shape_values = false;
  std::vector<int64_t> min_values;
  std::vector<int64_t> opt_values;
  std::vector<int64_t> max_values;
};

struct OutputSpec {
  std::string name;
  DataType dtype = DataType::kFLOAT32;
  std::vector<MetadataDim> shape;
};

struct EngineSettings {
  int64_t optimization_level = 3;
  bool truncate_double = false;
  bool hardware_compatible = false;
  bool strongly_typed = true;
  bool immutable_weights = true;
  std::vector<DataType> enabled_precisions = {DataType::kFLOAT32};
  std::vector<std::string> compute_capabilities;
};

class EngineMetadata {
 public:
  // Throws std::invalid_argument with the Python reader's "path: problem" messages.
  static EngineMetadata from_json(const std::string& text);

  // A missing flag reads as false.
  bool flag(const std::string& name) const;

  int64_t version = METADATA_VERSION;
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;
  EngineSettings settings;
  std::map<std::string, bool> flags;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
