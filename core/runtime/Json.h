// A small strict JSON reader for the engine metadata (no torch, no third-party dependency).
//
// It accepts exactly what the Python reader (_engine_info.EngineMetadata.from_json) accepts:
// RFC 8259 JSON, nesting at most `max_depth` arrays/objects, integer literals of at most 20
// digits, finite numbers only, no duplicate object keys.  Every failure throws std::invalid_argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

  static JsonValue parse(const std::string& text, size_t max_depth);

  Kind kind() const {
    return kind_;
  }
  // "null", "bool", "int", "float", "str", "list" or "object" (the Python type names used in messages).
  const char* kind_name() const;

  bool as_bool() const;
  // Integer value; `int_overflow()` is -1/+1 when the literal is below/above the int64 range.
  int64_t as_int() const;
  int int_overflow() const {
    return int_overflow_;
  }
  // An int or float value as a double.
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<JsonValue>& items() const; // array elements
  const std::vector<std::string>& keys() const; // object keys, in document order
  const std::vector<JsonValue>& values() const; // object values, parallel to keys()
  // Object member or nullptr.
  const JsonValue* find(const std::string& key) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  int int_overflow_ = 0;
  double float_ = 0.0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::string> keys_;
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
