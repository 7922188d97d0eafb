// Tensor element types as the engine metadata names them (DTYPE_NAMES in _engine_info.py).
// Shared by the metadata reader and the backend interface; no torch, no TensorRT.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

enum class DataType : int32_t {
  kFLOAT32 = 0,
  kFLOAT16,
  kBFLOAT16,
  kINT8,
  kUINT8,
  kINT32,
  kINT64,
  kBOOL,
  kFLOAT64,
};

constexpr std::array<const char*, 9> DTYPE_NAMES = {
    "float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool", "float64"};

inline const char* dtype_name(DataType t) {
  return DTYPE_NAMES[static_cast<size_t>(t)];
}

// false when `name` is not one of DTYPE_NAMES.
inline bool parse_dtype(const std::string& name, DataType* out) {
  for (size_t i = 0; i < DTYPE_NAMES.size(); ++i) {
    if (name == DTYPE_NAMES[i]) {
      *out = static_cast<DataType>(i);
      return true;
    }
  }
  return false;
}

inline size_t dtype_size(DataType t) {
  switch (t) {
    case DataType::kFLOAT32:
    case DataType::kINT32:
      return 4;
    case DataType::kFLOAT16:
    case DataType::kBFLOAT16:
      return 2;
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kBOOL:
      return 1;
    case DataType::kINT64:
    case DataType::kFLOAT64:
      return 8;
  }
  return 0;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
