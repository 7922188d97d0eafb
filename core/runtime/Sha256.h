// SHA-256 (FIPS 180-4), used for the runtime-cache file header shared with Python.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class Sha256 {
 public:
  static std::array<uint8_t, 32> digest(const std::string& data);
  static std::string hex(const std::string& data);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
