#include "core/runtime/EngineInfo.h"

#include <functional>
#include <set>
#include <stdexcept>

#include "core/runtime/Base64.h"
#include "core/runtime/runtime.h"
#include "core/runtime/text.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::invalid_argument slot_error(int64_t idx, const std::string& detail) {
  return std::invalid_argument("engine info slot " + slot_label(idx) + ": " + detail);
}

template <typename T>
T slot(const std::vector<std::string>& info, int64_t idx, const std::function<T(const std::string&)>& parse) {
  try {
    return parse(info[static_cast<size_t>(idx)]);
  } catch (const std::invalid_argument& e) {
    throw slot_error(idx, e.what());
  }
}

void parse_abi(const std::string& text) {
  if (text != ABI_VERSION) {
    throw std::invalid_argument(
        "this file was written for engine-info ABI " + quote(text) + "; this torch_tensorrt reads ABI " +
        ABI_VERSION + "; recompile the program with this version");
  }
}

bool parse_flag(const std::string& text) {
  if (text == "1") {
    return true;
  }
  if (text == "0") {
    return false;
  }
  throw std::invalid_argument("expected '0' or '1', found " + quote(text));
}

bool is_gpu_id(const std::string& s) {
  // 0|[1-9][0-9]{0,5}
  if (s.empty() || s.size() > 6) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return s == "0" || s[0] != '0';
}

void check_unique(const std::vector<std::string>& values, const std::string& what) {
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (!seen.insert(v).second) {
      throw std::invalid_argument(what + ": duplicate entry " + quote(v));
    }
  }
}

std::vector<std::string> parse_names(const std::string& text, const std::string& kind) {
  if (text.empty()) {
    return {};
  }
  std::vector<std::string> names = split(text, BINDING_DELIM);
  for (size_t i = 0; i < names.size(); ++i) {
    check_tensor_name(names[i], kind + " name #" + std::to_string(i));
  }
  check_unique(names, kind + " names");
  return names;
}

std::string join_list(const std::vector<std::string>& values, const char* sep) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? sep : "") + values[i];
  }
  return out;
}

std::string py_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size() && i < 8; ++i) {
    out += (i ? ", " : "") + quote(values[i]);
  }
  return out + "]";
}

} // namespace

EngineInfo EngineInfo::from_list(const std::vector<std::string>& info) {
  // A different ABI usually also means a different length; the ABI message is the one that
  // tells the user what to do.
  if (!info.empty()) {
    slot<int>(info, ABI_TARGET_IDX, [](const std::string& s) {
      parse_abi(s);
      return 0;
    });
  }
  if (info.size() != static_cast<size_t>(SERIALIZATION_LEN)) {
    throw std::invalid_argument(
        "engine info: expected SERIALIZATION_LEN = " + std::to_string(SERIALIZATION_LEN) + " slots, found " +
        std::to_string(info.size()));
  }
  EngineInfo out;
  out.abi_version = info[ABI_TARGET_IDX];
  out.name = slot<std::string>(info, NAME_IDX, [](const std::string& s) {
    if (s.empty()) {
      throw std::invalid_argument("engine name is empty");
    }
    check_c_string(s, "engine name");
    return s;
  });
  slot<int>(info, DEVICE_IDX, [&out](const std::string& s) {
    std::vector<std::string> parts = split(s, DEVICE_DELIM);
    if (parts.size() != 2) {
      throw std::invalid_argument("expected '<gpu_id>%<capabilities>', found " + quote(s));
    }
    if (!is_gpu_id(parts[0])) {
      throw std::invalid_argument("gpu id " + quote(parts[0]) + " is not a non-negative integer");
    }
    out.gpu_id = std::stoll(parts[0]);
    if (!parts[1].empty()) {
      out.compute_capabilities = split(parts[1], ',');
    }
    for (const auto& cap : out.compute_capabilities) {
      if (!is_capability(cap)) {
        throw std::invalid_argument("compute capability " + quote(cap) + " is not of the form 'major.minor'");
      }
    }
    check_unique(out.compute_capabilities, "compute capabilities");
    return 0;
  });
  out.engine = slot<std::string>(info, SERIALIZED_ENGINE_IDX, [](const std::string& s) { return Base64::decode(s); });
  out.input_names = slot<std::vector<std::string>>(
      info, INPUT_BINDING_NAMES_IDX, [](const std::string& s) { return parse_names(s, "input"); });
  out.output_names = slot<std::vector<std::string>>(
      info, OUTPUT_BINDING_NAMES_IDX, [](const std::string& s) { return parse_names(s, "output"); });
  if (out.output_names.empty()) {
    throw slot_error(OUTPUT_BINDING_NAMES_IDX, "an engine needs at least one output");
  }
  {
    std::set<std::string> inputs(out.input_names.begin(), out.input_names.end());
    std::set<std::string> overlap;
    for (const auto& n : out.output_names) {
      if (inputs.count(n)) {
        overlap.insert(n);
      }
    }
    if (!overlap.empty()) {
      throw slot_error(OUTPUT_BINDING_NAMES_IDX, "name " + quote(*overlap.begin()) + " is both an input and an output");
    }
  }
  out.hardware_compatible = slot<bool>(info, HW_COMPATIBLE_IDX, parse_flag);
  out.metadata = slot<EngineMetadata>(
      info, SERIALIZED_METADATA_IDX, [](const std::string& s) { return EngineMetadata::from_json(s); });
  struct {
    const char* kind;
    std::vector<std::string> recorded;
    const std::vector<std::string>* names;
    int64_t idx;
  } checks[] = {
      {"input", {}, &out.input_names, INPUT_BINDING_NAMES_IDX},
      {"output", {}, &out.output_names, OUTPUT_BINDING_NAMES_IDX},
  };
  for (const auto& s : out.metadata.inputs) {
    checks[0].recorded.push_back(s.name);
  }
  for (const auto& s : out.metadata.outputs) {
    checks[1].recorded.push_back(s.name);
  }
  for (const auto& c : checks) {
    if (!c.recorded.empty() && c.recorded != *c.names) {
      throw slot_error(
          SERIALIZED_METADATA_IDX,
          std::string("metadata ") + c.kind + " names " + py_list(c.recorded) + " differ from " + slot_label(c.idx) +
              ": " + py_list(*c.names));
    }
  }
  out.target_platform = slot<std::string>(info, TARGET_PLATFORM_IDX, [](const std::string& s) {
    for (const char* p : KNOWN_PLATFORMS) {
      if (s == p) {
        return s;
      }
    }
    throw std::invalid_argument(
        "unknown target platform " + quote(s) + "; known: " +
        join_list(std::vector<std::string>(KNOWN_PLATFORMS.begin(), KNOWN_PLATFORMS.end()), ", "));
  });
  out.requires_output_allocator = slot<bool>(info, REQUIRES_OUTPUT_ALLOCATOR_IDX, parse_flag);
  out.resource_allocation_strategy = slot<std::string>(info, RESOURCE_ALLOCATION_STRATEGY_IDX, [](const std::string& s) {
    for (const char* p : RESOURCE_ALLOCATION_STRATEGIES) {
      if (s == p) {
        return s;
      }
    }
    throw std::invalid_argument("unknown resource allocation strategy " + quote(s) + "; expected static or dynamic");
  });
  return out;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
