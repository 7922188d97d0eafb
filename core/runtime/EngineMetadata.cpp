#include "core/runtime/EngineMetadata.h"

#include <set>
#include <stdexcept>

#include "core/runtime/Json.h"
#include "core/runtime/ShapeExpr.h"
#include "core/runtime/text.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument(path + ": " + what);
}

std::string int_text(const JsonValue& v) {
  if (v.int_overflow() > 0) {
    return "a value above 9223372036854775807";
  }
  if (v.int_overflow() < 0) {
    return "a value below -9223372036854775808";
  }
  return std::to_string(v.as_int());
}

bool as_bool(const JsonValue& v, const std::string& path) {
  if (v.kind() != JsonValue::Kind::kBool) {
    fail(path, std::string("expected true/false, found ") + v.kind_name());
  }
  return v.as_bool();
}

int64_t as_int(const JsonValue& v, const std::string& path, int64_t lo, int64_t hi) {
  if (v.kind() != JsonValue::Kind::kInt) {
    fail(path, std::string("expected an integer, found ") + v.kind_name());
  }
  if (v.int_overflow() != 0 || v.as_int() < lo || v.as_int() > hi) {
    fail(path, int_text(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v.as_int();
}

const std::vector<JsonValue>& as_list(const JsonValue& v, const std::string& path) {
  if (v.kind() != JsonValue::Kind::kArray) {
    fail(path, std::string("expected a list, found ") + v.kind_name());
  }
  return v.items();
}

const JsonValue& as_object(const JsonValue& v, const std::string& path) {
  if (v.kind() != JsonValue::Kind::kObject) {
    fail(path, std::string("expected an object, found ") + v.kind_name());
  }
  return v;
}

std::string dtype_choices() {
  std::string out;
  for (size_t i = 0; i < DTYPE_NAMES.size(); ++i) {
    out += (i ? ", " : "") + std::string(DTYPE_NAMES[i]);
  }
  return out;
}

DataType as_dtype(const JsonValue& v, const std::string& path) {
  DataType t;
  if (v.kind() != JsonValue::Kind::kString || !parse_dtype(v.as_string(), &t)) {
    std::string shown = v.kind() == JsonValue::Kind::kString ? quote(v.as_string()) : v.kind_name();
    fail(path, "unknown dtype " + shown + "; expected one of " + dtype_choices());
  }
  return t;
}

std::string as_tensor_name(const JsonValue& v, const std::string& path) {
  if (v.kind() != JsonValue::Kind::kString) {
    fail(path, std::string("name must be a str, found ") + v.kind_name());
  }
  try {
    check_tensor_name(v.as_string(), "name");
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  return v.as_string();
}

MetadataDim as_dim(const JsonValue& v, const std::string& path) {
  MetadataDim d;
  if (v.kind() == JsonValue::Kind::kInt) {
    d.value = as_int(v, path, 0, INT64_MAX);
    return d;
  }
  if (v.kind() == JsonValue::Kind::kString) {
    try {
      ShapeExpr::validate(v.as_string());
    } catch (const std::invalid_argument& e) {
      fail(path, e.what());
    }
    d.is_static = false;
    d.expr = v.as_string();
    return d;
  }
  fail(path, std::string("expected an int >= 0 or a shape expression, found ") + v.kind_name());
}

const std::vector<JsonValue>& as_shape_list(const JsonValue& v, const std::string& path) {
  const auto& items = as_list(v, path);
  if (items.size() > MAX_RANK) {
    fail(path, "rank " + std::to_string(items.size()) + " exceeds the maximum of " + std::to_string(MAX_RANK));
  }
  return items;
}

std::vector<MetadataDim> as_shape(const JsonValue& v, const std::string& path) {
  std::vector<MetadataDim> dims;
  const auto& items = as_shape_list(v, path);
  for (size_t i = 0; i < items.size(); ++i) {
    dims.push_back(as_dim(items[i], path + "[" + std::to_string(i) + "]"));
  }
  return dims;
}

std::vector<int64_t> as_static_shape(const JsonValue& v, const std::string& path) {
  std::vector<int64_t> dims;
  const auto& items = as_shape_list(v, path);
  for (size_t i = 0; i < items.size(); ++i) {
    dims.push_back(as_int(items[i], path + "[" + std::to_string(i) + "]", 0, INT64_MAX));
  }
  return dims;
}

void check_unique(const std::vector<std::string>& values, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (!seen.insert(v).second) {
      fail(path, "duplicate entry " + quote(v));
    }
  }
}

std::string int_list_text(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(values[i]);
  }
  return out + "]";
}

// [min, opt, max] value lists of a shape-tensor input, each of one length, min <= opt <= max (as
// _as_shape_values of the Python reader; values may be negative, down to -INT64_MAX).
void parse_shape_values(const JsonValue& v, const std::string& path, InputSpec* spec) {
  const auto& bounds = as_list(v, path);
  if (bounds.size() != 3) {
    fail(path, "expected [min, opt, max] value lists, found " + std::to_string(bounds.size()) + " entries");
  }
  std::vector<int64_t>* targets[] = {&spec->min_values, &spec->opt_values, &spec->max_values};
  for (size_t k = 0; k < 3; ++k) {
    const std::string list_path = path + "[" + std::to_string(k) + "]";
    const auto& items = as_shape_list(bounds[k], list_path);
    for (size_t i = 0; i < items.size(); ++i) {
      targets[k]->push_back(as_int(items[i], list_path + "[" + std::to_string(i) + "]", -INT64_MAX, INT64_MAX));
    }
  }
  const auto &lo = spec->min_values, &opt = spec->opt_values, &hi = spec->max_values;
  bool ok = lo.size() == opt.size() && opt.size() == hi.size();
  for (size_t i = 0; ok && i < lo.size(); ++i) {
    ok = lo[i] <= opt[i] && opt[i] <= hi[i];
  }
  if (!ok) {
    fail(
        path,
        "need min <= opt <= max value lists of one length, found " + int_list_text(lo) + ", " + int_list_text(opt) +
            ", " + int_list_text(hi));
  }
  spec->has_shape_values = true;
}

// The three profile keys, each of the rank of `shape` (checked as each is read, as in Python).
void parse_profile_keys(const JsonValue& obj, const std::string& path, InputSpec* spec) {
  const char* profile_keys[] = {"min_shape", "opt_shape", "max_shape"};
  size_t present = 0;
  for (const char* key : profile_keys) {
    present += obj.find(key) != nullptr ? 1 : 0;
  }
  if (present != 0 && present != 3) {
    fail(path, "min_shape, opt_shape and max_shape must be given together");
  }
  if (present == 0) {
    return;
  }
  std::vector<int64_t>* targets[] = {&spec->min_shape, &spec->opt_shape, &spec->max_shape};
  for (size_t k = 0; k < 3; ++k) {
    std::string key_path = path + "." + profile_keys[k];
    *targets[k] = as_static_shape(*obj.find(profile_keys[k]), key_path);
    if (targets[k]->size() != spec->shape.size()) {
      fail(
          key_path,
          "rank " + std::to_string(targets[k]->size()) + " differs from the rank " +
              std::to_string(spec->shape.size()) + " of shape");
    }
  }
  spec->has_profile = true;
}

// Run once every key is read (the Python schema's whole-object check).
void check_profile_bounds(const InputSpec& spec, const std::string& path) {
  if (!spec.has_profile) {
    return;
  }
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    int64_t lo = spec.min_shape[i], mid = spec.opt_shape[i], hi = spec.max_shape[i];
    std::string found = std::to_string(lo) + ", " + std::to_string(mid) + ", " + std::to_string(hi);
    if (!(lo <= mid && mid <= hi)) {
      fail(path, "dim " + std::to_string(i) + ": need min <= opt <= max, found " + found);
    }
    const MetadataDim& d = spec.shape[i];
    if (d.is_static && !(lo == d.value && mid == d.value && hi == d.value)) {
      fail(
          path,
          "dim " + std::to_string(i) + " is static (" + std::to_string(d.value) + ") but the profile is " + found);
    }
  }
}

InputSpec parse_input(const JsonValue& raw, const std::string& path) {
  const JsonValue& obj = as_object(raw, path);
  for (const char* key : {"name", "dtype", "shape"}) {
    if (obj.find(key) == nullptr) {
      fail(path, std::string("missing required key '") + key + "'");
    }
  }
  InputSpec spec;
  spec.name = as_tensor_name(*obj.find("name"), path + ".name");
  spec.dtype = as_dtype(*obj.find("dtype"), path + ".dtype");
  spec.shape = as_shape(*obj.find("shape"), path + ".shape");
  parse_profile_keys(obj, path, &spec);
  if (const JsonValue* values = obj.find("shape_values")) {
    parse_shape_values(*values, path + ".shape_values", &spec);
  }
  check_profile_bounds(spec, path);
  return spec;
}

OutputSpec parse_output(const JsonValue& raw, const std::string& path) {
  const JsonValue& obj = as_object(raw, path);
  for (const char* key : {"name", "dtype", "shape"}) {
    if (obj.find(key) == nullptr) {
      fail(path, std::string("missing required key '") + key + "'");
    }
  }
  OutputSpec spec;
  spec.name = as_tensor_name(*obj.find("name"), path + ".name");
  spec.dtype = as_dtype(*obj.find("dtype"), path + ".dtype");
  spec.shape = as_shape(*obj.find("shape"), path + ".shape");
  return spec;
}

EngineSettings parse_settings(const JsonValue& raw, const std::string& path) {
  const JsonValue& obj = as_object(raw, path);
  EngineSettings s;
  if (const JsonValue* v = obj.find("optimization_level")) {
    s.optimization_level = as_int(*v, path + ".optimization_level", 0, 5);
  }
  struct {
    const char* key;
    bool* target;
  } bools[] = {
      {"truncate_double", &s.truncate_double},
      {"hardware_compatible", &s.hardware_compatible},
      {"strongly_typed", &s.strongly_typed},
      {"immutable_weights", &s.immutable_weights},
  };
  for (const auto& b : bools) {
    if (const JsonValue* v = obj.find(b.key)) {
      *b.target = as_bool(*v, path + "." + b.key);
    }
  }
  if (const JsonValue* v = obj.find("enabled_precisions")) {
    std::string p = path + ".enabled_precisions";
    const auto& items = as_list(*v, p);
    s.enabled_precisions.clear();
    std::vector<std::string> names;
    for (size_t i = 0; i < items.size(); ++i) {
      DataType t = as_dtype(items[i], p + "[" + std::to_string(i) + "]");
      s.enabled_precisions.push_back(t);
      names.push_back(dtype_name(t));
    }
    check_unique(names, p);
  }
  if (const JsonValue* v = obj.find("compute_capabilities")) {
    std::string p = path + ".compute_capabilities";
    const auto& items = as_list(*v, p);
    for (size_t i = 0; i < items.size(); ++i) {
      const JsonValue& item = items[i];
      if (item.kind() != JsonValue::Kind::kString || !is_capability(item.as_string())) {
        std::string shown = item.kind() == JsonValue::Kind::kString ? quote(item.as_string()) : item.kind_name();
        fail(p + "[" + std::to_string(i) + "]", "compute capability " + shown + " is not of the form 'major.minor'");
      }
      s.compute_capabilities.push_back(item.as_string());
    }
    check_unique(s.compute_capabilities, p);
  }
  return s;
}

} // namespace

std::string stripped_weights_error(const std::string& engine_name) {
  return "engine '" + engine_name +
      "' was built with strip_engine_weights=True and holds no weights: refit it with "
      "torch_tensorrt.dynamo.refit_module_weights(compiled, exported_program_with_weights) before running it";
}

bool EngineMetadata::flag(const std::string& name) const {
  auto it = flags.find(name);
  return it != flags.end() && it->second;
}

EngineMetadata EngineMetadata::from_json(const std::string& text) {
  if (text.size() > MAX_METADATA_CHARS) {
    throw std::invalid_argument("metadata is larger than " + std::to_string(MAX_METADATA_CHARS) + " characters");
  }
  JsonValue root;
  try {
    root = JsonValue::parse(text, MAX_METADATA_DEPTH);
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    if (what.find("nested deeper") != std::string::npos) {
      throw std::invalid_argument(
          "metadata JSON is nested deeper than " + std::to_string(MAX_METADATA_DEPTH) + " levels");
    }
    throw std::invalid_argument("metadata is not valid JSON (" + quote(text, 20) + "): " + what);
  }
  const JsonValue& obj = as_object(root, "metadata");
  const JsonValue* format = obj.find("format");
  if (format == nullptr || format->kind() != JsonValue::Kind::kString || format->as_string() != METADATA_FORMAT) {
    std::string shown = format == nullptr ? "no 'format' key"
        : format->kind() == JsonValue::Kind::kString ? quote(format->as_string())
                                                     : format->kind_name();
    fail("metadata", "not torch_tensorrt engine metadata (format: " + shown + ")");
  }
  const JsonValue* version = obj.find("version");
  if (version == nullptr) {
    fail("metadata", "missing required key 'version'");
  }
  if (version->kind() != JsonValue::Kind::kInt) {
    fail("metadata.version", std::string("expected an integer >= 1, found ") + version->kind_name());
  }
  if (version->int_overflow() < 0 || version->as_int() < 1) {
    fail("metadata.version", "expected an integer >= 1, found " + int_text(*version));
  }
  if (version->int_overflow() > 0 || version->as_int() > METADATA_VERSION) {
    fail(
        "metadata.version",
        "metadata version " + int_text(*version) + " is newer than this torch_tensorrt reads (version " +
            std::to_string(METADATA_VERSION) + "); upgrade torch_tensorrt or recompile the program");
  }
  EngineMetadata md;
  md.version = version->as_int();
  if (const JsonValue* inputs = obj.find("inputs")) {
    const auto& items = as_list(*inputs, "metadata.inputs");
    for (size_t i = 0; i < items.size(); ++i) {
      md.inputs.push_back(parse_input(items[i], "metadata.inputs[" + std::to_string(i) + "]"));
    }
  }
  if (const JsonValue* outputs = obj.find("outputs")) {
    const auto& items = as_list(*outputs, "metadata.outputs");
    for (size_t i = 0; i < items.size(); ++i) {
      md.outputs.push_back(parse_output(items[i], "metadata.outputs[" + std::to_string(i) + "]"));
    }
  }
  std::vector<std::string> names;
  for (const auto& s : md.inputs) {
    names.push_back(s.name);
  }
  for (const auto& s : md.outputs) {
    names.push_back(s.name);
  }
  check_unique(names, "metadata tensor names");
  if (const JsonValue* settings = obj.find("settings")) {
    md.settings = parse_settings(*settings, "metadata.settings");
  }
  if (const JsonValue* flags = obj.find("flags")) {
    const JsonValue& f = as_object(*flags, "metadata.flags");
    for (size_t i = 0; i < f.keys().size(); ++i) {
      const std::string& key = f.keys()[i];
      size_t len = utf8_length(key);
      if (len == 0 || len > MAX_FLAG_NAME) {
        fail("metadata.flags", "flag name must have 1 to " + std::to_string(MAX_FLAG_NAME) + " characters");
      }
      md.flags[key] = as_bool(f.values()[i], "metadata.flags[" + quote(key, 40) + "]");
    }
  }
  return md;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
